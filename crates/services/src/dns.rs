//! The Amazon DNS resolver (Route 53 Resolver at the VPC's base+2 and 169.254.169.253).
