package localiam

// installAWSManagedPolicies adds the AWS managed policies to a new account.
func (s *Server) installAWSManagedPolicies() {}
