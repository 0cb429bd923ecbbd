import Foundation

/// Terraform for GCP: a workload identity pool and OIDC provider that accept only Qbeast's control
/// plane presenting this environment's subject (`attribute_condition`), a service account it may
/// impersonate (`roles/iam.workloadIdentityUser` for that principal only), and the roles of the
/// scenario — conditioned on the cluster and bucket names where GCP allows it.
enum GCPTerraform {
    static func render(_ c: OnboardingContext) -> String {
        let project = c.parameters["project"] ?? "my-project"
        let pool = String(c.shortName.prefix(32))
        var text = """
            # Qbeast control-plane access for \(c.tenant)/\(c.environment) (\(c.mode.rawValue)).
            #   terraform init && terraform apply
            # Revoke: terraform destroy (or delete the workload identity provider "\(pool)/qbeast-control-plane").

            variable "project_id" {
              type    = string
              default = "\(project)"
            }

            variable "cluster_name" {
              type    = string
              default = "\(c.cluster)"
            }

            variable "bucket_prefix" {
              type    = string
              default = "\(c.bucketPrefix)"
            }

            resource "google_iam_workload_identity_pool" "qbeast" {
              project                   = var.project_id
              workload_identity_pool_id = "\(pool)"
              display_name              = "Qbeast \(c.tenant)/\(c.environment)"
            }

            resource "google_iam_workload_identity_pool_provider" "qbeast" {
              project                            = var.project_id
              workload_identity_pool_id          = google_iam_workload_identity_pool.qbeast.workload_identity_pool_id
              workload_identity_pool_provider_id = "qbeast-control-plane"
              attribute_mapping = {
                "google.subject" = "assertion.sub"
              }
              # Mandatory: only this environment's subject, from Qbeast's issuer, is accepted.
              attribute_condition = "assertion.sub == '\(c.subject)'"
              oidc {
                issuer_uri = "\(c.oidcIssuer)"
              }
            }

            resource "google_service_account" "qbeast" {
              project      = var.project_id
              account_id   = "\(String(c.shortName.prefix(30)))"
              display_name = "Qbeast control plane for \(c.tenant)/\(c.environment)"
            }

            resource "google_service_account_iam_member" "workload_identity" {
              service_account_id = google_service_account.qbeast.name
              role               = "roles/iam.workloadIdentityUser"
              member             = "principal://iam.googleapis.com/${google_iam_workload_identity_pool.qbeast.name}/subject/\(c.subject)"
            }

            resource "google_project_iam_member" "buckets" {
              project = var.project_id
              role    = "roles/storage.admin"
              member  = "serviceAccount:${google_service_account.qbeast.email}"
              condition {
                title      = "workspace buckets only"
                expression = "resource.name.startsWith(\\"projects/_/buckets/${var.bucket_prefix}-\\")"
              }
            }


            """
        if c.mode == .provided {
            text += """
                resource "google_project_iam_member" "cluster" {
                  project = var.project_id
                  role    = "roles/container.clusterViewer"
                  member  = "serviceAccount:${google_service_account.qbeast.email}"
                  condition {
                    title      = "this environment's cluster only"
                    expression = "resource.name.endsWith(\\"/clusters/${var.cluster_name}\\")"
                  }
                }


                """
        } else {
            for (name, role) in [("clusters", "roles/container.clusterAdmin"), ("network", "roles/compute.networkAdmin")] {
                text += """
                    resource "google_project_iam_member" "\(name)" {
                      project = var.project_id
                      role    = "\(role)"
                      member  = "serviceAccount:${google_service_account.qbeast.email}"
                    }


                    """
            }
        }
        text += """
            # Give these back to Qbeast.
            output "workload_identity_provider" {
              value = google_iam_workload_identity_pool_provider.qbeast.name
            }

            output "service_account_email" {
              value = google_service_account.qbeast.email
            }

            """
        return text
    }
}
