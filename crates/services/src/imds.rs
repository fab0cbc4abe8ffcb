//! The instance metadata service (IMDSv1 and IMDSv2) at 169.254.169.254.
