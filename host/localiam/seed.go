package localiam

func (s *Server) applySeed(name string) error { return nil }
