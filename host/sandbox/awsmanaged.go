package sandbox

import "time"

// The AWS managed policies every account can attach. They live in AWS's
// account ("aws" in their ARN), so an account can read and attach them but
// never change them (see writablePolicy in policies.go).
//
// Each entry is a real (default version, date, document) triple as AWS
// published it: policy ids, creation dates, version ids and update dates are
// IAM's own, and the documents are verbatim except where said otherwise.
// AWS revises some of these policies often; an entry is a snapshot of one
// published version, and its VersionId and UpdateDate are that version's.
// Only the default version is kept (IAM keeps every version of an AWS
// managed policy; ListPolicyVersions here lists just the default).

// awsManaged describes one AWS managed policy.
type awsManaged struct {
	name, path, id   string
	description      string
	version          string // the default version's id
	created, updated string // RFC 3339; updated is when the default version was published
	document         string
}

func (m awsManaged) arn() string { return "arn:aws:iam::aws:policy" + m.path + m.name }

// installAWSManagedPolicies adds the AWS managed policies to a new account.
func (s *Server) installAWSManagedPolicies() {
	for _, m := range awsManagedPolicies {
		created, updated := mustTime(m.created), mustTime(m.updated)
		p := &ManagedPolicy{
			ARN: m.arn(), Name: m.name, Path: m.path, ID: m.id, Description: m.description,
			AWSManaged: true, Created: created, Updated: updated, DefaultVersion: m.version,
			Versions: []*PolicyVersion{{ID: m.version, Document: m.document, Created: updated}},
		}
		s.acct.Policies[p.ARN] = p
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic("sandbox: bad AWS managed policy date " + s)
	}
	return t
}

var awsManagedPolicies = []awsManaged{
	{
		name: "AdministratorAccess", path: "/", id: "ANPAIWMBCKSKIEE64ZLYK",
		description: "Provides full access to AWS services and resources.",
		version:     "v1", created: "2015-02-06T18:39:46Z", updated: "2015-02-06T18:39:46Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "PowerUserAccess", path: "/", id: "ANPAJYRXTHIB4FOVS3ZXS",
		description: "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		version:     "v12", created: "2015-02-06T18:39:47Z", updated: "2026-02-12T17:59:14Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "NotAction": [
                "iam:*",
                "organizations:*",
                "account:*"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "account:GetAccountInformation",
                "account:GetGovCloudAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeEffectivePolicy",
                "organizations:DescribeOrganization"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "IAMFullAccess", path: "/", id: "ANPAI7XKCFMBPM3QQRRVQ",
		description: "Provides full access to IAM via the AWS Management Console.",
		version:     "v2", created: "2015-02-06T18:40:38Z", updated: "2019-06-21T19:40:00Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "IAMUserChangePassword", path: "/", id: "ANPAJ4L4MM2A7QIEB56MS",
		description: "Provides the ability for an IAM user to change their own password.",
		version:     "v2", created: "2016-11-15T00:25:16Z", updated: "2016-11-15T23:18:55Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:ChangePassword"
            ],
            "Resource": [
                "arn:aws:iam::*:user/${aws:username}"
            ]
        },
        {
            "Effect": "Allow",
            "Action": [
                "iam:GetAccountPasswordPolicy"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "IAMReadOnlyAccess", path: "/", id: "ANPAJKSO7NDY4T57MWDSQ",
		description: "Provides read only access to IAM via the AWS Management Console.",
		version:     "v4", created: "2015-02-06T18:40:39Z", updated: "2018-01-25T19:11:27Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "AmazonS3ReadOnlyAccess", path: "/", id: "ANPAIZTJ4DXE7G6AGAE6M",
		description: "Provides read only access to all buckets via the AWS Management Console.",
		version:     "v3", created: "2015-02-06T18:40:59Z", updated: "2023-08-10T21:31:39Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "AmazonS3FullAccess", path: "/", id: "ANPAIFIR6V6BVTRAHWINE",
		description: "Provides full access to all buckets via the AWS Management Console.",
		version:     "v2", created: "2015-02-06T18:40:58Z", updated: "2021-09-27T20:16:37Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:*",
                "s3-object-lambda:*"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "AmazonEC2ReadOnlyAccess", path: "/", id: "ANPAIGDT4SV4GSETWTBZK",
		description: "Provides read only access to Amazon EC2 via the AWS Management Console.",
		version:     "v2", created: "2015-02-06T18:40:17Z", updated: "2024-02-14T15:17:04Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EC2",
            "Effect": "Allow",
            "Action": [
                "ec2:Describe*",
                "ec2:Get*"
            ],
            "Resource": "*"
        },
        {
            "Sid": "ELB",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:Describe*",
            "Resource": "*"
        },
        {
            "Sid": "Cloudwatch",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:ListMetrics",
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:Describe*"
            ],
            "Resource": "*"
        },
        {
            "Sid": "Autoscaling",
            "Effect": "Allow",
            "Action": "autoscaling:Describe*",
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "AWSLambdaBasicExecutionRole", path: "/service-role/", id: "ANPAJNCQGXC42545SKXIK",
		description: "Provides write permissions to CloudWatch Logs.",
		version:     "v1", created: "2015-04-09T15:03:43Z", updated: "2015-04-09T15:03:43Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "ViewOnlyAccess", path: "/job-function/", id: "ANPAID22R6XPJATWOFDK6",
		description: "This policy grants permissions to view resources and basic metadata across all AWS services.",
		version:     "v36", created: "2016-11-10T17:20:15Z", updated: "2026-02-11T22:19:13Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "GeneralViewOnlyAccessStatement",
            "Effect": "Allow",
            "Action": [
                "acm:ListCertificates",
                "aiops:GetInvestigation",
                "aiops:GetInvestigationGroup",
                "aiops:ListInvestigationEvents",
                "aiops:ListInvestigationGroups",
                "aiops:ListInvestigations",
                "athena:List*",
                "autoscaling:Describe*",
                "aws-marketplace:ViewSubscriptions",
                "backup:DescribeBackupJob",
                "backup:DescribeBackupVault",
                "backup:DescribeCopyJob",
                "backup:DescribeFramework",
                "backup:DescribeGlobalSettings",
                "backup:DescribeProtectedResource",
                "backup:DescribeRecoveryPoint",
                "backup:DescribeRegionSettings",
                "backup:DescribeReportJob",
                "backup:DescribeReportPlan",
                "backup:DescribeRestoreJob",
                "backup:GetSupportedResourceTypes",
                "backup:ListBackupJobs",
                "backup:ListBackupPlans",
                "backup:ListBackupPlanTemplates",
                "backup:ListBackupPlanVersions",
                "backup:ListBackupSelections",
                "backup:ListBackupVaults",
                "backup:ListCopyJobs",
                "backup:ListFrameworks",
                "backup:ListLegalHolds",
                "backup:ListProtectedResources",
                "backup:ListProtectedResourcesByBackupVault",
                "backup:ListRecoveryPointsByBackupVault",
                "backup:ListRecoveryPointsByLegalHold",
                "backup:ListRecoveryPointsByResource",
                "backup:ListReportJobs",
                "backup:ListReportPlans",
                "backup:ListRestoreJobs",
                "backup:ListTags",
                "batch:ListJobs",
                "bedrock:ListCustomModels",
                "bedrock:ListTagsForResource",
                "clouddirectory:ListAppliedSchemaArns",
                "clouddirectory:ListDevelopmentSchemaArns",
                "clouddirectory:ListDirectories",
                "clouddirectory:ListPublishedSchemaArns",
                "cloudformation:DescribeStacks",
                "cloudformation:List*",
                "cloudfront:List*",
                "cloudsearch:DescribeDomains",
                "cloudsearch:List*",
                "cloudtrail:DescribeTrails",
                "cloudtrail:ListTrails",
                "cloudtrail:LookupEvents",
                "cloudwatch:Get*",
                "cloudwatch:List*",
                "codebuild:ListBuilds*",
                "codebuild:ListProjects",
                "codecommit:List*",
                "codedeploy:BatchGetApplicationRevisions",
                "codedeploy:BatchGetApplications",
                "codedeploy:BatchGetDeploymentGroups",
                "codedeploy:BatchGetDeploymentInstances",
                "codedeploy:BatchGetDeployments",
                "codedeploy:BatchGetDeploymentTargets",
                "codedeploy:BatchGetOnPremisesInstances",
                "codedeploy:Get*",
                "codedeploy:List*",
                "codepipeline:ListPipelines",
                "codestar:List*",
                "cognito-identity:ListIdentities",
                "cognito-identity:ListIdentityPools",
                "cognito-idp:List*",
                "cognito-sync:ListDatasets",
                "comprehend:Describe*",
                "comprehend:List*",
                "config:Describe*",
                "config:List*",
                "connect:List*",
                "cost-optimization-hub:GetPreferences",
                "cost-optimization-hub:GetRecommendation",
                "cost-optimization-hub:ListEnrollmentStatuses",
                "cost-optimization-hub:ListRecommendations",
                "cost-optimization-hub:ListRecommendationSummaries",
                "databrew:ListJobs",
                "databrew:ListProjects",
                "datapipeline:DescribePipelines",
                "datapipeline:GetAccountLimits",
                "datapipeline:ListPipelines",
                "dax:DescribeClusters",
                "dax:DescribeDefaultParameters",
                "dax:DescribeEvents",
                "dax:DescribeParameterGroups",
                "dax:DescribeParameters",
                "dax:DescribeSubnetGroups",
                "dax:ListTags",
                "devicefarm:List*",
                "directconnect:Describe*",
                "discovery:List*",
                "dms:List*",
                "ds:DescribeDirectories",
                "dynamodb:DescribeBackup",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeGlobalTable",
                "dynamodb:DescribeGlobalTableSettings",
                "dynamodb:DescribeLimits",
                "dynamodb:DescribeReservedCapacity",
                "dynamodb:DescribeReservedCapacityOfferings",
                "dynamodb:DescribeStream",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:ListBackups",
                "dynamodb:ListExports",
                "dynamodb:ListGlobalTables",
                "dynamodb:ListStreams",
                "dynamodb:ListTables",
                "dynamodb:ListTagsOfResource",
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeBundleTasks",
                "ec2:DescribeCarrierGateways",
                "ec2:DescribeClassicLinkInstances",
                "ec2:DescribeConversionTasks",
                "ec2:DescribeCustomerGateways",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeExportTasks",
                "ec2:DescribeFlowLogs",
                "ec2:DescribeHost*",
                "ec2:DescribeIdentityIdFormat",
                "ec2:DescribeIdFormat",
                "ec2:DescribeImage*",
                "ec2:DescribeImport*",
                "ec2:DescribeInstance*",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeKeyPairs",
                "ec2:DescribeLocalGatewayRouteTables",
                "ec2:DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations",
                "ec2:DescribeLocalGatewayRouteTableVpcAssociations",
                "ec2:DescribeLocalGateways",
                "ec2:DescribeLocalGatewayVirtualInterfaceGroups",
                "ec2:DescribeLocalGatewayVirtualInterfaces",
                "ec2:DescribeMovingAddresses",
                "ec2:DescribeNatGateways",
                "ec2:DescribeNetwork*",
                "ec2:DescribePlacementGroups",
                "ec2:DescribePrefixLists",
                "ec2:DescribeRegions",
                "ec2:DescribeReserved*",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSnapshot*",
                "ec2:DescribeSpot*",
                "ec2:DescribeSubnets",
                "ec2:DescribeTags",
                "ec2:DescribeVolume*",
                "ec2:DescribeVpc*",
                "ec2:DescribeVpnGateways",
                "ec2:SearchLocalGatewayRoutes",
                "ecr:DescribeRegistry",
                "ecr:DescribeRepositories",
                "ecr:ListImages",
                "ecs:Describe*",
                "ecs:List*",
                "eks:ListTagsForResource",
                "elasticache:Describe*",
                "elasticbeanstalk:DescribeApplications",
                "elasticbeanstalk:DescribeApplicationVersions",
                "elasticbeanstalk:DescribeEnvironments",
                "elasticbeanstalk:ListAvailableSolutionStacks",
                "elasticfilesystem:DescribeFileSystems",
                "elasticloadbalancing:DescribeInstanceHealth",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticmapreduce:List*",
                "elastictranscoder:List*",
                "emr-serverless:ListApplications",
                "es:DescribeElasticsearchDomain",
                "es:DescribeElasticsearchDomains",
                "es:ListDomainNames",
                "events:ListRuleNamesByTarget",
                "events:ListRules",
                "events:ListTargetsByRule",
                "firehose:DescribeDeliveryStream",
                "firehose:List*",
                "fsx:DescribeFileSystems",
                "gamelift:List*",
                "glacier:List*",
                "glue:GetTags",
                "greengrass:List*",
                "iam:GetAccountSummary",
                "iam:GetLoginProfile",
                "iam:List*",
                "importexport:ListJobs",
                "inspector:List*",
                "iot:List*",
                "kafka:ListClusters",
                "kendra:ListDataSources",
                "kendra:ListTagsForResource",
                "kinesis:ListStreams",
                "kinesisanalytics:ListApplications",
                "kinesisanalytics:ListTagsForResource",
                "kms:ListKeys",
                "kms:ListResourceTags",
                "lambda:List*",
                "lex:GetBotAliases",
                "lex:GetBotChannelAssociations",
                "lex:GetBots",
                "lex:GetBotVersions",
                "lex:GetIntents",
                "lex:GetIntentVersions",
                "lex:GetSlotTypes",
                "lex:GetSlotTypeVersions",
                "lex:GetUtterancesView",
                "lightsail:GetBlueprints",
                "lightsail:GetBundles",
                "lightsail:GetInstances",
                "lightsail:GetInstanceSnapshots",
                "lightsail:GetKeyPair",
                "lightsail:GetRegions",
                "lightsail:GetStaticIps",
                "lightsail:IsVpcPeered",
                "logs:Describe*",
                "logs:GetTransformer",
                "logs:ListEntitiesForLogGroup",
                "logs:ListLogGroupsForEntity",
                "logs:ListLogGroupsForQuery",
                "logs:ListTagsForResource",
                "lookoutvision:ListModelPackagingJobs",
                "lookoutvision:ListModels",
                "lookoutvision:ListProjects",
                "m2:GetApplication",
                "m2:GetEnvironment",
                "m2:ListApplications",
                "m2:ListEnvironments",
                "m2:ListTagsForResource",
                "machinelearning:Describe*",
                "mediaconnect:ListEntitlements",
                "mediaconnect:ListFlows",
                "mediaconnect:ListOfferings",
                "mediaconnect:ListReservations",
                "mediaconnect:ListRouterInputs",
                "mediaconnect:ListRouterOutputs",
                "mediaconnect:ListRouterNetworkInterfaces",
                "mobiletargeting:GetApplicationSettings",
                "mobiletargeting:GetCampaigns",
                "mobiletargeting:GetImportJobs",
                "mobiletargeting:GetSegments",
                "oam:ListAttachedLinks",
                "oam:ListLinks",
                "oam:ListSinks",
                "opsworks-cm:Describe*",
                "opsworks:Describe*",
                "organizations:List*",
                "outposts:GetOutpost",
                "outposts:GetOutpostInstanceTypes",
                "outposts:ListOutposts",
                "outposts:ListSites",
                "outposts:ListTagsForResource",
                "polly:Describe*",
                "polly:List*",
                "profile:ListDomains",
                "profile:ListIntegrations",
                "rds:Describe*",
                "redshift-serverless:ListTagsForResource",
                "redshift-serverless:ListWorkgroups",
                "redshift:DescribeClusters",
                "redshift:DescribeEvents",
                "redshift:ViewQueriesInConsole",
                "resource-explorer-2:GetDefaultView",
                "resource-explorer-2:GetIndex",
                "resource-explorer-2:ListIndexes",
                "resource-explorer-2:ListSupportedResourceTypes",
                "resource-explorer-2:ListTagsForResource",
                "resource-explorer-2:ListViews",
                "rolesanywhere:ListCrls",
                "rolesanywhere:ListProfiles",
                "rolesanywhere:ListSubjects",
                "rolesanywhere:ListTagsForResource",
                "rolesanywhere:ListTrustAnchors",
                "route53:Get*",
                "route53:List*",
                "route53domains:List*",
                "route53profiles:GetProfile",
                "route53profiles:GetProfileAssociation",
                "route53profiles:GetProfileResourceAssociation",
                "route53profiles:ListProfileAssociations",
                "route53profiles:ListProfileResourceAssociations",
                "route53profiles:ListProfiles",
                "route53profiles:ListTagsForResource",
                "route53resolver:Get*",
                "route53resolver:List*",
                "s3:ListAllMyBuckets",
                "s3:ListBucket",
                "s3:ListMultiRegionAccessPoints",
                "sagemaker:Describe*",
                "sagemaker:List*",
                "sdb:List*",
                "servicecatalog:List*",
                "ses:DescribeActiveReceiptRuleSet",
                "ses:List*",
                "ses:ListDedicatedIpPools",
                "shield:List*",
                "sns:List*",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListDeadLetterSourceQueues",
                "sqs:ListMessageMoveTasks",
                "sqs:ListQueues",
                "sqs:ListQueueTags",
                "ssm:ListAssociations",
                "ssm:ListDocuments",
                "states:ListActivities",
                "states:ListExecutions",
                "states:ListMapRuns",
                "states:ListStateMachineAliases",
                "states:ListStateMachines",
                "states:ListStateMachineVersions",
                "storagegateway:ListGateways",
                "storagegateway:ListLocalDisks",
                "storagegateway:ListVolumeRecoveryPoints",
                "storagegateway:ListVolumes",
                "swf:List*",
                "trustedadvisor:Describe*",
                "waf-regional:List*",
                "waf:List*",
                "wafv2:List*",
                "workdocs:DescribeAvailableDirectories",
                "workdocs:DescribeInstances",
                "workmail:Describe*",
                "workspaces:Describe*",
                "xray:GetEncryptionConfig",
                "xray:GetGroups",
                "xray:GetSamplingRules",
                "xray:GetSamplingStatisticSummaries",
                "xray:GetSamplingTargets",
                "xray:GetTraceSegmentDestination",
                "xray:ListResourcePolicies"
            ],
            "Resource": "*"
        },
        {
            "Sid": "APIGatewayAccess",
            "Effect": "Allow",
            "Action": [
                "apigateway:GET"
            ],
            "Resource": ` + apiGatewayReadResources + `
        }
    ]
}`,
	},
	// ReadOnlyAccess and SecurityAudit are subsets, deliberately: their real
	// documents run to thousands of actions (v132 of ReadOnlyAccess is some
	// 119,000 characters pretty-printed, v55 of SecurityAudit some 45,000),
	// which would put hundreds of kilobytes of action names into every new
	// account and state file for nothing a test or plugin needs. Kept: their
	// real structure (the same statements, Sids and resources) and a few dozen
	// of their real actions, exactly as AWS writes them, chosen to cover what
	// reviews and simulations look at (IAM, S3, EC2, KMS, CloudTrail, logs,
	// and wildcards such as iam:Get*, iam:List* and s3:Get*).
	{
		name: "ReadOnlyAccess", path: "/", id: "ANPAILL3HVNFSB6DCOWYQ",
		description: "Provides read-only access to AWS services and resources.",
		version:     "v132", created: "2015-02-06T18:39:48Z", updated: "2025-09-02T21:49:07Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOnlyActionsGroup1",
            "Effect": "Allow",
            "Action": [
                "access-analyzer:GetAnalyzer",
                "access-analyzer:GetFinding",
                "access-analyzer:ListAnalyzers",
                "access-analyzer:ListFindings",
                "account:GetAccountInformation",
                "account:GetAlternateContact",
                "acm:Describe*",
                "acm:Get*",
                "acm:List*",
                "apigateway:GET",
                "athena:Get*",
                "athena:List*",
                "autoscaling:Describe*",
                "backup:Describe*",
                "backup:Get*",
                "backup:List*",
                "batch:Describe*",
                "batch:List*",
                "directconnect:Describe*",
                "ds:Describe*",
                "dynamodb:BatchGet*",
                "dynamodb:Describe*",
                "dynamodb:Get*",
                "dynamodb:List*",
                "dynamodb:Query",
                "dynamodb:Scan",
                "ec2:Describe*",
                "ec2:Get*",
                "ecr:BatchGet*",
                "ecr:Describe*",
                "ecr:Get*",
                "ecr:List*",
                "ecs:Describe*",
                "ecs:List*",
                "eks:Describe*",
                "eks:List*",
                "elasticache:Describe*",
                "elasticloadbalancing:Describe*",
                "es:Describe*",
                "events:Describe*",
                "events:List*",
                "firehose:Describe*",
                "firehose:List*",
                "glacier:Describe*",
                "glacier:Get*",
                "glacier:List*",
                "guardduty:Describe*",
                "guardduty:Get*",
                "guardduty:List*",
                "health:Describe*",
                "iam:Generate*",
                "iam:Get*",
                "iam:List*",
                "iam:Simulate*",
                "identitystore:ListGroups",
                "identitystore:ListUsers",
                "inspector2:ListFindings",
                "iot:Describe*",
                "iot:Get*",
                "iot:List*"
            ],
            "Resource": "*"
        },
        {
            "Sid": "ReadOnlyActionsGroup2",
            "Effect": "Allow",
            "Action": [
                "kafka:Describe*",
                "kafka:List*",
                "kinesis:Describe*",
                "kinesis:Get*",
                "kinesis:List*",
                "kms:Describe*",
                "kms:Get*",
                "kms:List*",
                "lambda:Get*",
                "lambda:List*",
                "logs:Describe*",
                "logs:FilterLogEvents",
                "logs:Get*",
                "ram:Get*",
                "ram:List*",
                "rds:Describe*",
                "rds:List*",
                "redshift:Describe*",
                "route53:Get*",
                "route53:List*",
                "s3:DescribeJob",
                "s3:Get*",
                "s3:List*",
                "sagemaker:Describe*",
                "sagemaker:List*",
                "secretsmanager:Describe*",
                "secretsmanager:List*",
                "securityhub:Describe*",
                "securityhub:Get*",
                "securityhub:List*",
                "ses:Get*",
                "ses:List*",
                "shield:Describe*",
                "shield:Get*",
                "shield:List*",
                "sns:Get*",
                "sns:List*",
                "transfer:Describe*",
                "transfer:List*",
                "waf:Get*",
                "waf:List*",
                "wafv2:Get*",
                "wafv2:List*",
                "workspaces:Describe*",
                "xray:BatchGet*",
                "xray:Get*"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "SecurityAudit", path: "/", id: "ANPAIX2T3QCXHR2OGGCTO",
		description: "The security audit template grants access to read security configuration metadata. It is useful for software that audits the configuration of an AWS account.",
		version:     "v55", created: "2015-02-06T18:41:01Z", updated: "2025-09-05T18:04:08Z",
		document: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "BaseSecurityAuditStatement",
            "Effect": "Allow",
            "Action": [
                "access-analyzer:GetAnalyzer",
                "access-analyzer:ListAnalyzers",
                "access-analyzer:ListFindings",
                "account:GetAlternateContact",
                "acm:Describe*",
                "acm:List*",
                "autoscaling:Describe*",
                "cloudformation:DescribeStack*",
                "cloudformation:GetTemplate",
                "cloudformation:ListStack*",
                "cloudfront:Get*",
                "cloudfront:List*",
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:GetTrail",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:ListTrails",
                "cloudtrail:LookupEvents",
                "cloudwatch:Describe*",
                "config:Describe*",
                "config:Get*",
                "config:List*",
                "dynamodb:DescribeTable",
                "dynamodb:ListTables",
                "ec2:Describe*",
                "ec2:GetEbsEncryptionByDefault",
                "ecr:DescribeRepositories",
                "ecr:GetRepositoryPolicy",
                "ecs:Describe*",
                "ecs:List*",
                "eks:DescribeCluster",
                "eks:ListClusters",
                "elasticloadbalancing:Describe*",
                "guardduty:Get*",
                "guardduty:List*",
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy",
                "kms:Describe*",
                "kms:Get*",
                "kms:List*",
                "lambda:GetPolicy",
                "lambda:List*",
                "logs:Describe*",
                "organizations:Describe*",
                "organizations:List*",
                "rds:Describe*",
                "redshift:Describe*",
                "route53:Get*",
                "route53:List*",
                "s3:GetAccountPublicAccessBlock",
                "s3:GetBucket*",
                "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:ListAllMyBuckets",
                "s3:ListBucket",
                "secretsmanager:DescribeSecret",
                "secretsmanager:ListSecrets",
                "securityhub:Describe*",
                "securityhub:Get*",
                "securityhub:List*",
                "sns:GetTopicAttributes",
                "sns:ListTopics",
                "sqs:GetQueueAttributes",
                "sqs:ListQueues",
                "ssm:Describe*",
                "sts:GetAccessKeyInfo",
                "tag:GetResources",
                "wafv2:ListWebACLs"
            ],
            "Resource": "*"
        },
        {
            "Sid": "APIGatewayAccess",
            "Effect": "Allow",
            "Action": [
                "apigateway:GET"
            ],
            "Resource": ` + apiGatewayReadResources + `
        }
    ]
}`,
	},
}

// apiGatewayReadResources is the API Gateway statement's resource list that
// SecurityAudit and ViewOnlyAccess share word for word.
const apiGatewayReadResources = `[
                "arn:aws:apigateway:*::/apis",
                "arn:aws:apigateway:*::/apis/*/authorizers/*",
                "arn:aws:apigateway:*::/apis/*/authorizers",
                "arn:aws:apigateway:*::/apis/*/cors",
                "arn:aws:apigateway:*::/apis/*/deployments/*",
                "arn:aws:apigateway:*::/apis/*/deployments",
                "arn:aws:apigateway:*::/apis/*/exports/*",
                "arn:aws:apigateway:*::/apis/*/integrations/*",
                "arn:aws:apigateway:*::/apis/*/integrations",
                "arn:aws:apigateway:*::/apis/*/models/*",
                "arn:aws:apigateway:*::/apis/*/models",
                "arn:aws:apigateway:*::/apis/*/routes/*",
                "arn:aws:apigateway:*::/apis/*/routes",
                "arn:aws:apigateway:*::/apis/*/stages",
                "arn:aws:apigateway:*::/apis/*/stages/*",
                "arn:aws:apigateway:*::/clientcertificates",
                "arn:aws:apigateway:*::/clientcertificates/*",
                "arn:aws:apigateway:*::/domainnames",
                "arn:aws:apigateway:*::/domainnames/*/apimappings",
                "arn:aws:apigateway:*::/restapis",
                "arn:aws:apigateway:*::/restapis/*/authorizers/*",
                "arn:aws:apigateway:*::/restapis/*/authorizers",
                "arn:aws:apigateway:*::/restapis/*/deployments/*",
                "arn:aws:apigateway:*::/restapis/*/deployments",
                "arn:aws:apigateway:*::/restapis/*/documentation/parts/*",
                "arn:aws:apigateway:*::/restapis/*/documentation/parts",
                "arn:aws:apigateway:*::/restapis/*/documentation/versions/*",
                "arn:aws:apigateway:*::/restapis/*/documentation/versions",
                "arn:aws:apigateway:*::/restapis/*/gatewayresponses/*",
                "arn:aws:apigateway:*::/restapis/*/gatewayresponses",
                "arn:aws:apigateway:*::/restapis/*/models/*",
                "arn:aws:apigateway:*::/restapis/*/models",
                "arn:aws:apigateway:*::/restapis/*/requestvalidators",
                "arn:aws:apigateway:*::/restapis/*/requestvalidators/*",
                "arn:aws:apigateway:*::/restapis/*/resources/*",
                "arn:aws:apigateway:*::/restapis/*/resources",
                "arn:aws:apigateway:*::/restapis/*/stages",
                "arn:aws:apigateway:*::/restapis/*/stages/*",
                "arn:aws:apigateway:*::/tags/*",
                "arn:aws:apigateway:*::/vpclinks"
            ]`
