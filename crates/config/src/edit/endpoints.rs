//! Run-time changes to gateway VPC endpoints (`vpcctl create-vpc-endpoint`,
//! `modify-vpc-endpoint`, `delete-vpc-endpoints`, like the EC2 calls of the same
//! names): each edit is checked by writing the changed topology and reading it back,
//! so every rule of `[[vpc_endpoint]]` (docs/config.md) holds for what it makes.

use crate::endpoints::VpcEndpoint;
use crate::topology::*;

/// Why an endpoint change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointEditError {
    /// No endpoint of that name.
    #[error("{0:?} is not a VPC endpoint")]
    UnknownEndpoint(String),
    /// No VPC of that name.
    #[error("{0:?} is not a VPC")]
    UnknownVpc(String),
    /// An endpoint of that name exists.
    #[error("VPC endpoint {0:?} exists")]
    Exists(String),
    /// The changed configuration breaks a rule (the configuration's messages).
    #[error("{0}")]
    Invalid(String),
}

impl Topology {
    /// Creates gateway endpoint `name` of VPC `vpc` to `service_name`
    /// (`com.amazonaws.<region>.<service>`), routed from `route_tables` (names).
    pub fn create_vpc_endpoint(
        &mut self,
        name: &str,
        vpc: &str,
        service_name: &str,
        route_tables: &[String],
    ) -> Result<(), EndpointEditError> {
        if self.vpc_endpoints.iter().any(|e| e.name == name) {
            return Err(EndpointEditError::Exists(name.to_owned()));
        }
        let v = self
            .vpcs
            .iter()
            .position(|x| x.name == vpc)
            .ok_or_else(|| EndpointEditError::UnknownVpc(vpc.to_owned()))?;
        let service = self.find_aws_service(service_name).ok_or_else(|| {
            EndpointEditError::Invalid(format!("{service_name:?} names no [[aws_service]]"))
        })?;
        let tables = self.table_ids(route_tables)?;
        let mut edited = self.clone();
        edited.vpc_endpoints.push(VpcEndpoint {
            name: name.to_owned(),
            vpc: VpcId(v as u32),
            service,
            route_tables: tables,
        });
        self.replace_checked(edited)
    }

    /// Adds route tables `add` to endpoint `name` and removes `remove` (names).
    pub fn modify_vpc_endpoint(
        &mut self,
        name: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), EndpointEditError> {
        let k = self.endpoint_index(name)?;
        let add = self.table_ids(add)?;
        let remove = self.table_ids(remove)?;
        let mut edited = self.clone();
        let e = &mut edited.vpc_endpoints[k];
        e.route_tables.retain(|r| !remove.contains(r));
        for r in add {
            if !e.route_tables.contains(&r) {
                e.route_tables.push(r);
            }
        }
        self.replace_checked(edited)
    }

    /// Deletes endpoints `names` with their routes: all or none.
    pub fn delete_vpc_endpoints(&mut self, names: &[String]) -> Result<(), EndpointEditError> {
        for n in names {
            self.endpoint_index(n)?;
        }
        let mut edited = self.clone();
        edited.vpc_endpoints.retain(|e| !names.contains(&e.name));
        self.replace_checked(edited)
    }

    fn endpoint_index(&self, name: &str) -> Result<usize, EndpointEditError> {
        self.vpc_endpoints
            .iter()
            .position(|e| e.name == name)
            .ok_or_else(|| EndpointEditError::UnknownEndpoint(name.to_owned()))
    }

    fn table_ids(&self, names: &[String]) -> Result<Vec<RouteTableId>, EndpointEditError> {
        names
            .iter()
            .map(|n| {
                self.route_tables
                    .iter()
                    .position(|r| &r.name == n)
                    .map(|i| RouteTableId(i as u32))
                    .ok_or_else(|| {
                        EndpointEditError::Invalid(format!("{n:?} is not a route table"))
                    })
            })
            .collect()
    }

    /// Replaces `self` with `edited` if it reads back from its own file.
    fn replace_checked(&mut self, edited: Topology) -> Result<(), EndpointEditError> {
        let checked = crate::parse(&crate::to_toml(&edited), "<edit>").map_err(|e| {
            let parts: Vec<String> = e
                .diagnostics()
                .iter()
                .map(|d| format!("{} {}", d.field, d.problem))
                .collect();
            EndpointEditError::Invalid(parts.join("; "))
        })?;
        *self = checked;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &Topology, e: usize) -> Vec<&str> {
        t.vpc_endpoints[e]
            .route_tables
            .iter()
            .map(|&r| t.route_table(r).name.as_str())
            .collect()
    }

    #[test]
    fn endpoints_are_created_modified_and_deleted_by_aws_rules() {
        let mut t = Topology::demo();
        let s3 = "com.amazonaws.local-1.s3";
        let e = t
            .create_vpc_endpoint("again", "demo", s3, &["private-a-rt".into()])
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("already has a route to the prefix list"),
            "{e}"
        );
        t.modify_vpc_endpoint(
            "s3-endpoint",
            &["private-b-rt".into()],
            &["private-a-rt".into()],
        )
        .unwrap();
        assert_eq!(names(&t, 0), ["private-b-rt"]);
        t.create_vpc_endpoint("again", "demo", s3, &["public-rt".into()])
            .unwrap();
        assert_eq!(names(&t, 1), ["public-rt"]);
        assert_eq!(
            t.create_vpc_endpoint("x", "nope", s3, &[]).unwrap_err(),
            EndpointEditError::UnknownVpc("nope".into())
        );
        assert_eq!(
            t.delete_vpc_endpoints(&["again".into(), "ghost".into()])
                .unwrap_err(),
            EndpointEditError::UnknownEndpoint("ghost".into())
        );
        assert_eq!(t.vpc_endpoints.len(), 2, "all or none");
        t.delete_vpc_endpoints(&["again".into(), "s3-endpoint".into()])
            .unwrap();
        assert!(t.vpc_endpoints.is_empty());
    }
}
