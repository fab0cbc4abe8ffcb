//! The control socket: a Unix socket, mode 0600 from its creation (bound under a
//! restrictive umask, so there is no window), that only root or the daemon's own user may
//! use. One JSON request per line, one JSON response per line (`vpc-api`). Oversized or
//! malformed requests get an error response; a slow client is cut off; the daemon never
//! fails because of a client.
//!
//! Requests that change the configuration (delete a NAT gateway, attach or detach an
//! internet gateway, allocate, release, associate or disassociate an Elastic IP,
//! associate or disassociate a route table and an internet gateway, replace or restore
//! the target of a local route, create, accept or delete a VPC peering connection) edit
//! a copy of the dataplane's topology under the dataplane's lock and apply it; each
//! one, made or refused, is logged.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::stat::{Mode, umask};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use vpc_api::{MAX_REQUEST_LEN, Request, Response};
use vpc_config::{PeeringStatus, Topology};

use crate::error::SetupError;
use crate::report;
use crate::state::Shared;

/// Clients served at once; more wait for a slot.
const MAX_CLIENTS: usize = 32;
/// How long a client may take to send a request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the control socket at `path`. A stale socket left by a dead daemon is
/// replaced; a live one is an error.
pub async fn bind(path: &Path) -> Result<UnixListener, SetupError> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir)
            .map_err(SetupError::io(format!("create {}", dir.display())))?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(SetupError::Io {
                what: format!("control socket {}", path.display()),
                error: std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another vpcd is listening there",
                ),
            });
        }
        std::fs::remove_file(path)
            .map_err(SetupError::io(format!("remove stale {}", path.display())))?;
    }
    // Sockets start from mode 0777 minus the umask: 0177 makes this one 0600.
    let old = umask(Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    umask(old);
    bound.map_err(SetupError::io(format!("bind {}", path.display())))
}

/// Serves clients until the task is aborted.
pub async fn serve(listener: UnixListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("control socket accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = client(stream, &shared).await {
                tracing::debug!("control client: {e}");
            }
            drop(permit);
        });
    }
}

async fn client(stream: UnixStream, shared: &Shared) -> std::io::Result<()> {
    let allowed = stream
        .peer_cred()
        .map(|c| c.uid() == 0 || c.uid() == nix::unistd::geteuid().as_raw())
        .unwrap_or(false);
    let (read, mut write) = stream.into_split();
    if !allowed {
        let refusal = Response::Error {
            message: "permission denied: vpcctl must run as root".into(),
        };
        return write.write_all(&vpc_api::encode(&refusal)).await;
    }
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = MAX_REQUEST_LEN as u64 + 1;
        let mut bounded = (&mut reader).take(limit);
        let read = tokio::time::timeout(REQUEST_TIMEOUT, bounded.read_until(b'\n', &mut line));
        match read.await {
            Err(_) | Ok(Ok(0)) => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(_)) => {}
        }
        let response = match vpc_api::decode_request(&line) {
            Ok(request) => answer(request, shared),
            Err(e) => Response::Error {
                message: e.to_string(),
            },
        };
        let too_long = line.len() > MAX_REQUEST_LEN;
        write.write_all(&vpc_api::encode(&response)).await?;
        if too_long || line.last() != Some(&b'\n') {
            return Ok(()); // the rest of an oversized line is not read
        }
    }
}

fn answer(request: Request, shared: &Shared) -> Response {
    match request {
        Request::Status {} => Response::Status(report::status(shared)),
        Request::Routes {} => Response::Routes(report::routes(shared)),
        Request::Counters {} => Response::Counters(report::counters(shared)),
        Request::Flows { instance } => match report::flows(shared, instance.as_deref()) {
            Ok(r) => Response::Flows(r),
            Err(message) => Response::Error { message },
        },
        Request::Trace {
            from,
            to,
            proto,
            port,
        } => match report::trace(shared, &from, &to, &proto, port) {
            Ok(r) => Response::Trace(r),
            Err(message) => Response::Error { message },
        },
        Request::NatGateways { name, mappings } => {
            match report::nat_gateways(shared, name.as_deref(), mappings) {
                Ok(r) => Response::NatGateways(r),
                Err(message) => Response::Error { message },
            }
        }
        Request::Addresses {} => Response::Addresses(report::addresses(shared)),
        Request::VpcPeeringConnections {} => {
            Response::VpcPeeringConnections(report::vpc_peering_connections(shared))
        }
        Request::TransitGateways {} => Response::TransitGateways(report::transit_gateways(shared)),
        Request::MulticastDomains {} => {
            Response::MulticastDomains(report::multicast_domains(shared))
        }
        Request::DeleteNatGateway { .. }
        | Request::DetachInternetGateway { .. }
        | Request::AttachInternetGateway { .. }
        | Request::AllocateAddress { .. }
        | Request::ReleaseAddress { .. }
        | Request::AssociateAddress { .. }
        | Request::DisassociateAddress { .. }
        | Request::AssociateRouteTable { .. }
        | Request::DisassociateRouteTable { .. }
        | Request::ReplaceRoute { .. }
        | Request::CreateVpcPeeringConnection { .. }
        | Request::AcceptVpcPeeringConnection { .. }
        | Request::DeleteVpcPeeringConnection { .. } => change(request, shared),
    }
}

/// Makes a change: edits a copy of the dataplane's topology and applies it, all under
/// the dataplane's lock, so packets see the old configuration or the new one. Logs it.
fn change(request: Request, shared: &Shared) -> Response {
    let now = shared.now();
    let mut dp = shared.dataplane();
    let before = dp.topology();
    let mut edited = before.clone();
    let (what, result) = edit(&request, before, &mut edited);
    let result = result.and_then(|message| {
        if dp.apply(&edited, now) {
            Ok(message)
        } else {
            Err("the edited configuration has other network interfaces; not applied".into())
        }
    });
    drop(dp);
    match result {
        Ok(message) => {
            tracing::info!("vpcctl {what}: {message}");
            Response::Done { message }
        }
        Err(message) => {
            tracing::info!("vpcctl {what}: refused: {message}");
            Response::Error { message }
        }
    }
}

/// Applies one change request to `edited` (a copy of `before`); returns the request in
/// words, and what was done or why not.
fn edit(
    request: &Request,
    before: &Topology,
    edited: &mut Topology,
) -> (String, Result<String, String>) {
    let address = |a: &str| {
        a.parse::<Ipv4Addr>()
            .map_err(|_| format!("{a:?} is not an IPv4 address"))
    };
    match request {
        Request::DeleteNatGateway { name } => (
            format!("delete-nat-gateway {name}"),
            edited
                .delete_nat_gateway(name)
                .map_err(|e| e.to_string())
                .map(|_| format!("deleted NAT gateway {name}; routes to it are blackhole")),
        ),
        Request::DetachInternetGateway { name } => {
            let vpc = before
                .internet_gateways
                .iter()
                .find(|g| &g.name == name)
                .and_then(|g| g.vpc)
                .map(|v| before.vpc(v).name.clone());
            (
                format!("detach-internet-gateway {name}"),
                edited
                    .detach_internet_gateway(name)
                    .map_err(|e| e.to_string())
                    .map(|_| match vpc {
                        Some(vpc) => format!(
                            "detached internet gateway {name} from vpc {vpc}; routes to it are blackhole"
                        ),
                        None => format!("detached internet gateway {name}"),
                    }),
            )
        }
        Request::AttachInternetGateway { name, vpc } => (
            format!("attach-internet-gateway {name} {vpc}"),
            edited
                .attach_internet_gateway(name, vpc)
                .map_err(|e| e.to_string())
                .map(|_| format!("attached internet gateway {name} to vpc {vpc}")),
        ),
        Request::AllocateAddress { address: a } => (
            format!("allocate-address {a}"),
            address(a).and_then(|ip| {
                edited
                    .allocate_address(ip)
                    .map_err(|e| e.to_string())
                    .map(|_| format!("allocated Elastic IP {ip}"))
            }),
        ),
        Request::ReleaseAddress { address: a } => (
            format!("release-address {a}"),
            address(a).and_then(|ip| {
                edited
                    .release_address(ip)
                    .map_err(|e| e.to_string())
                    .map(|_| format!("released Elastic IP {ip}"))
            }),
        ),
        Request::AssociateAddress {
            address: a,
            instance,
        } => (
            format!("associate-address {a} {instance}"),
            address(a).and_then(|ip| {
                edited
                    .associate_address(ip, instance)
                    .map_err(|e| e.to_string())
                    .map(|_| {
                        let eni = before
                            .find_eni(instance)
                            .map_or(instance.clone(), |e| before.eni_name(e).to_string());
                        format!("associated Elastic IP {ip} with {eni}")
                    })
            }),
        ),
        Request::DisassociateAddress { address: a } => (
            format!("disassociate-address {a}"),
            address(a).and_then(|ip| {
                let from = before
                    .elastic_ips
                    .iter()
                    .find(|e| e.address == ip)
                    .and_then(|e| e.association)
                    .map(|x| report::association(before, x));
                edited
                    .disassociate_address(ip)
                    .map_err(|e| e.to_string())
                    .map(|_| match from {
                        Some(from) => format!("disassociated Elastic IP {ip} from {from}"),
                        None => format!("disassociated Elastic IP {ip}"),
                    })
            }),
        ),
        Request::AssociateRouteTable { table, gateway } => (
            format!("associate-route-table {table} --gateway-id {gateway}"),
            edited
                .associate_route_table_gateway(table, gateway)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "associated route table {table} with internet gateway {gateway}: it routes what enters the VPC through it"
                    )
                }),
        ),
        Request::DisassociateRouteTable { table, gateway } => (
            format!("disassociate-route-table {table} --gateway-id {gateway}"),
            edited
                .disassociate_route_table_gateway(table, gateway)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!("disassociated route table {table} from internet gateway {gateway}")
                }),
        ),
        Request::ReplaceRoute {
            table,
            destination,
            network_interface,
        } => {
            let what = format!(
                "replace-route {table} --destination-cidr-block {destination} {}",
                network_interface
                    .as_ref()
                    .map_or("--local-target".to_owned(), |e| format!(
                        "--network-interface-id {e}"
                    ))
            );
            let result = destination
                .parse::<ipnet::Ipv4Net>()
                .map_err(|_| format!("{destination:?} is not an IPv4 CIDR block"))
                .and_then(|cidr| {
                    edited
                        .replace_local_route_target(table, cidr, network_interface.as_deref())
                        .map_err(|e| e.to_string())
                        .map(|_| {
                            let target = network_interface
                                .as_deref()
                                .and_then(|e| before.find_eni(e))
                                .map_or("local".to_owned(), |e| before.eni_name(e).to_string());
                            format!("the local route {cidr} of route table {table} now targets {target}")
                        })
                });
            (what, result)
        }
        Request::CreateVpcPeeringConnection {
            name,
            vpc,
            peer_vpc,
        } => (
            format!(
                "create-vpc-peering-connection --vpc-peering-connection-id {name} --vpc-id {vpc} --peer-vpc-id {peer_vpc}"
            ),
            edited
                .create_vpc_peering_connection(name, vpc, peer_vpc)
                .map_err(|e| e.to_string())
                .map(|id| {
                    let pcx = edited.vpc_peering_connection(id);
                    let accepter = edited.vpc(pcx.accepter);
                    match pcx.status {
                        PeeringStatus::Active => format!(
                            "created VPC peering connection {name} from vpc {vpc} to vpc {peer_vpc}: active"
                        ),
                        status => format!(
                            "requested VPC peering connection {name} from vpc {vpc} to vpc {peer_vpc} of account {}: {}; routes to it are blackhole until that account accepts it (accept-vpc-peering-connection)",
                            accepter.owner_id,
                            status.aws_name()
                        ),
                    }
                }),
        ),
        Request::AcceptVpcPeeringConnection { name } => (
            format!("accept-vpc-peering-connection --vpc-peering-connection-id {name}"),
            edited
                .accept_vpc_peering_connection(name)
                .map_err(|e| e.to_string())
                .map(|_| format!("accepted VPC peering connection {name}{}: active; routes to it are active", peered(before, name))),
        ),
        Request::DeleteVpcPeeringConnection { name } => (
            format!("delete-vpc-peering-connection --vpc-peering-connection-id {name}"),
            edited
                .delete_vpc_peering_connection(name)
                .map_err(|e| e.to_string())
                .map(|_| format!("deleted VPC peering connection {name}{}; routes to it are blackhole", peered(before, name))),
        ),
        other => (format!("{other:?}"), Err("not a change request".to_owned())),
    }
}

/// ` between vpc A and vpc B` for VPC peering connection `name`, if it exists.
fn peered(t: &Topology, name: &str) -> String {
    t.find_vpc_peering_connection(name)
        .map(|p| t.vpc_peering_connection(p))
        .map_or(String::new(), |p| {
            format!(
                " between vpc {} and vpc {}",
                t.vpc(p.requester).name,
                t.vpc(p.accepter).name
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{PEERING, shared};

    /// Makes change `request`; returns what was said, `Err` for a refusal.
    fn made(s: &Shared, request: Request) -> Result<String, String> {
        match change(request, s) {
            Response::Done { message } => Ok(message),
            Response::Error { message } => Err(message),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The state of the route to `destination` in VPC route table `table`.
    fn route(s: &Shared, table: &str, destination: &str) -> String {
        let routes = report::routes(s);
        let t = routes.tables.iter().find(|t| t.name == table).unwrap();
        let r = t.routes.iter().find(|r| r.destination == destination);
        r.map(|r| format!("{} {}", r.target, r.state)).unwrap()
    }

    fn peering_status(s: &Shared, name: &str) -> String {
        let r = report::vpc_peering_connections(s);
        let p = r.vpc_peering_connections.iter().find(|p| p.name == name);
        p.unwrap().status.clone()
    }

    #[test]
    fn peering_connections_are_created_accepted_and_deleted() {
        let s = shared(PEERING);
        assert_eq!(route(&s, "a-rt", "10.2.0.0/16"), "a-b active");
        let pcx = |name: &str| name.to_owned();
        assert_eq!(
            made(&s, Request::DeleteVpcPeeringConnection { name: pcx("a-b") }),
            Ok(
                "deleted VPC peering connection a-b between vpc a and vpc b; routes to it are blackhole"
                    .into()
            )
        );
        assert_eq!(route(&s, "a-rt", "10.2.0.0/16"), "a-b blackhole");
        assert_eq!(peering_status(&s, "a-b"), "deleted");
        assert_eq!(
            made(&s, Request::DeleteVpcPeeringConnection { name: pcx("a-b") }),
            Err("VPC peering connection \"a-b\" is already deleted".into())
        );
        // Within one account a new connection is active at once.
        assert_eq!(
            made(
                &s,
                Request::CreateVpcPeeringConnection {
                    name: pcx("a-b2"),
                    vpc: "a".into(),
                    peer_vpc: "b".into()
                }
            ),
            Ok("created VPC peering connection a-b2 from vpc a to vpc b: active".into())
        );
        // Across accounts it waits for the accepter's owner.
        let create_a_c = Request::CreateVpcPeeringConnection {
            name: pcx("a-c"),
            vpc: "a".into(),
            peer_vpc: "c".into(),
        };
        assert_eq!(
            made(&s, create_a_c.clone()),
            Ok("requested VPC peering connection a-c from vpc a to vpc c of account 444455556666: pending-acceptance; routes to it are blackhole until that account accepts it (accept-vpc-peering-connection)".into())
        );
        assert_eq!(peering_status(&s, "a-c"), "pending-acceptance");
        assert_eq!(
            made(&s, create_a_c),
            Err("there is already a VPC peering connection named \"a-c\"".into())
        );
        assert_eq!(
            made(&s, Request::AcceptVpcPeeringConnection { name: pcx("a-c") }),
            Ok(
                "accepted VPC peering connection a-c between vpc a and vpc c: active; routes to it are active"
                    .into()
            )
        );
        assert_eq!(peering_status(&s, "a-c"), "active");
        assert_eq!(
            made(&s, Request::AcceptVpcPeeringConnection { name: pcx("a-c") }),
            Err("VPC peering connection \"a-c\" is active, not pending-acceptance".into())
        );
        let refused = made(
            &s,
            Request::CreateVpcPeeringConnection {
                name: pcx("a-a"),
                vpc: "a".into(),
                peer_vpc: "a".into(),
            },
        );
        assert_eq!(
            refused,
            Err("vpc \"a\" cannot be peered with itself".into())
        );
        assert_eq!(
            made(&s, Request::AcceptVpcPeeringConnection { name: pcx("x") }),
            Err("there is no VPC peering connection \"x\"".into())
        );
    }
}
