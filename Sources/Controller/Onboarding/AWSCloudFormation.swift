import Foundation

/// CloudFormation for AWS: an IAM role only Qbeast's control-plane role may assume, and only with this
/// environment's `sts:ExternalId`. `provided`: describe the named EKS cluster and manage the workspace
/// buckets by prefix. `managed`: the explicit VPC/EKS/EC2 actions to build the environment, with
/// `iam:PassRole` limited to the two roles the stack creates and to the services they are for.
enum AWSCloudFormation {
    static func render(_ c: OnboardingContext) -> String {
        var text = """
            AWSTemplateFormatVersion: "2010-09-09"
            Description: >-
              Qbeast control-plane access for \(c.tenant)/\(c.environment) (\(c.mode.rawValue) cluster). Creates one IAM role that
              only Qbeast's control plane can assume, with the external ID below. Delete this stack to revoke access.
            Parameters:
              ClusterName:
                Type: String
                Default: \(c.cluster)
                Description: EKS cluster of this environment
              BucketPrefix:
                Type: String
                Default: \(c.bucketPrefix)
                Description: Workspace buckets are named <BucketPrefix>-<workspace>
            Resources:
              QbeastControlPlaneRole:
                Type: AWS::IAM::Role
                Properties:
                  RoleName: \(c.shortName.prefix(48))-access
                  Description: Assumed by Qbeast's control plane for \(c.tenant)/\(c.environment)
                  MaxSessionDuration: 3600
                  AssumeRolePolicyDocument:
                    Version: "2012-10-17"
                    Statement:
                      - Effect: Allow
                        Principal:
                          AWS: \(c.controlPlaneRoleARN)
                        Action: sts:AssumeRole
                        Condition:
                          StringEquals:
                            sts:ExternalId: \(c.externalID)
                  Policies:
                    - PolicyName: qbeast-workspace-buckets
                      PolicyDocument:
                        Version: "2012-10-17"
                        Statement:
                          - Sid: WorkspaceBuckets
                            Effect: Allow
                            Action:
                              - s3:CreateBucket
                              - s3:DeleteBucket
                              - s3:ListBucket
                              - s3:GetBucketLocation
                              - s3:GetBucketPolicy
                              - s3:PutBucketPolicy
                              - s3:GetEncryptionConfiguration
                              - s3:PutEncryptionConfiguration
                              - s3:PutBucketPublicAccessBlock
                              - s3:PutBucketTagging
                              - s3:PutLifecycleConfiguration
                            Resource: !Sub arn:${AWS::Partition}:s3:::${BucketPrefix}-*
                          - Sid: DescribeCluster
                            Effect: Allow
                            Action: eks:DescribeCluster
                            Resource: !Sub arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}

            """
        if c.mode == .managed {
            text += """
                        - PolicyName: qbeast-managed-environment
                          PolicyDocument:
                            Version: "2012-10-17"
                            Statement:
                              - Sid: Network
                                Effect: Allow
                                Action:
                                  - ec2:CreateVpc
                                  - ec2:DeleteVpc
                                  - ec2:ModifyVpcAttribute
                                  - ec2:CreateSubnet
                                  - ec2:DeleteSubnet
                                  - ec2:CreateInternetGateway
                                  - ec2:AttachInternetGateway
                                  - ec2:DetachInternetGateway
                                  - ec2:DeleteInternetGateway
                                  - ec2:CreateNatGateway
                                  - ec2:DeleteNatGateway
                                  - ec2:AllocateAddress
                                  - ec2:ReleaseAddress
                                  - ec2:CreateRouteTable
                                  - ec2:DeleteRouteTable
                                  - ec2:CreateRoute
                                  - ec2:AssociateRouteTable
                                  - ec2:DisassociateRouteTable
                                  - ec2:CreateSecurityGroup
                                  - ec2:DeleteSecurityGroup
                                  - ec2:AuthorizeSecurityGroupIngress
                                  - ec2:AuthorizeSecurityGroupEgress
                                  - ec2:RevokeSecurityGroupIngress
                                  - ec2:RevokeSecurityGroupEgress
                                  - ec2:CreateTags
                                  - ec2:DescribeVpcs
                                  - ec2:DescribeSubnets
                                  - ec2:DescribeRouteTables
                                  - ec2:DescribeSecurityGroups
                                  - ec2:DescribeInternetGateways
                                  - ec2:DescribeNatGateways
                                  - ec2:DescribeAddresses
                                  - ec2:DescribeAvailabilityZones
                                Resource: "*"
                                Condition:
                                  StringEquals:
                                    aws:RequestedRegion: !Ref AWS::Region
                              - Sid: Cluster
                                Effect: Allow
                                Action:
                                  - eks:CreateCluster
                                  - eks:DeleteCluster
                                  - eks:UpdateClusterConfig
                                  - eks:UpdateClusterVersion
                                  - eks:CreateNodegroup
                                  - eks:DeleteNodegroup
                                  - eks:UpdateNodegroupConfig
                                  - eks:DescribeNodegroup
                                  - eks:ListNodegroups
                                  - eks:TagResource
                                Resource:
                                  - !Sub arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}
                                  - !Sub arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/${ClusterName}/*/*
                              - Sid: PassOnlyTheEnvironmentRoles
                                Effect: Allow
                                Action: iam:PassRole
                                Resource:
                                  - !GetAtt EksClusterRole.Arn
                                  - !GetAtt EksNodeRole.Arn
                                Condition:
                                  StringEquals:
                                    iam:PassedToService:
                                      - eks.amazonaws.com
                                      - ec2.amazonaws.com
                  EksClusterRole:
                    Type: AWS::IAM::Role
                    Properties:
                      RoleName: \(c.shortName.prefix(48))-eks
                      AssumeRolePolicyDocument:
                        Version: "2012-10-17"
                        Statement:
                          - Effect: Allow
                            Principal:
                              Service: eks.amazonaws.com
                            Action: sts:AssumeRole
                      ManagedPolicyArns:
                        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKSClusterPolicy
                  EksNodeRole:
                    Type: AWS::IAM::Role
                    Properties:
                      RoleName: \(c.shortName.prefix(48))-nodes
                      AssumeRolePolicyDocument:
                        Version: "2012-10-17"
                        Statement:
                          - Effect: Allow
                            Principal:
                              Service: ec2.amazonaws.com
                            Action: sts:AssumeRole
                      ManagedPolicyArns:
                        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy
                        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly
                        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy

                """
        }
        text += """
            Outputs:
              RoleArn:
                Description: Give this back to Qbeast to complete onboarding
                Value: !GetAtt QbeastControlPlaneRole.Arn
              ExternalId:
                Description: The external ID Qbeast presents; unique to this environment
                Value: \(c.externalID)

            """
        return text
    }
}
