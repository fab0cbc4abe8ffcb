//! The control socket: a Unix socket, mode 0600 from its creation (bound under a
//! restrictive umask, so there is no window), that only root or the daemon's own user may
//! use. One JSON request per line, one JSON response per line (`vpc-api`). Oversized or
//! malformed requests get an error response; a slow client is cut off; the daemon never
//! fails because of a client.
//!
//! Requests that change the configuration (delete a NAT gateway, attach or detach an
//! internet gateway, allocate, release, associate or disassociate an Elastic IP,
//! associate or disassociate a route table and an internet gateway, replace or restore
//! the target of a local route, create, accept or delete a VPC peering connection,
//! enable or disable a transit gateway route table's propagation, associate or
//! disassociate an attachment and a transit gateway route table, create or delete a
//! transit gateway route, accept a transit gateway attachment, register or deregister
//! multicast group members and sources) edit a copy of the dataplane's topology under
//! the dataplane's lock and apply it; each one, made or refused, is logged.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ipnet::Ipv4Net;
use nix::sys::stat::{Mode, umask};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use vpc_api::{MAX_REQUEST_LEN, Request, Response};
use vpc_config::{AttachmentStatus, PeeringStatus, TgwAttachmentKind, Topology};

use crate::error::SetupError;
use crate::live;
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

async fn client(stream: UnixStream, shared: &Arc<Shared>) -> std::io::Result<()> {
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
            // On a blocking thread: a change may wait for another one, and may make
            // namespaces, whose netlink sockets the runtime's worker drives.
            Ok(request) => {
                let shared = Arc::clone(shared);
                tokio::task::spawn_blocking(move || answer(request, &shared))
                    .await
                    .unwrap_or_else(|e| Response::Error {
                        message: format!("the request failed: {e}"),
                    })
            }
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
            source,
        } => match report::trace(shared, &from, &to, &proto, port, source.as_deref()) {
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
        Request::Tags { resource_id } => {
            Response::Tags(report::tags(shared, resource_id.as_deref()))
        }
        Request::VpcPeeringConnections {} => {
            Response::VpcPeeringConnections(report::vpc_peering_connections(shared))
        }
        Request::TransitGateways {} => Response::TransitGateways(report::transit_gateways(shared)),
        Request::MulticastDomains {} => {
            Response::MulticastDomains(report::multicast_domains(shared))
        }
        Request::DhcpOptions {} => Response::DhcpOptions(crate::dns_report::dhcp_options(shared)),
        Request::HostedZones {} => Response::HostedZones(crate::dns_report::hosted_zones(shared)),
        Request::Apply { path, dry_run } => apply_file(Path::new(&path), dry_run, shared),
        Request::VpcEndpoints {} => Response::VpcEndpoints(crate::endpoints::vpc_endpoints(shared)),
        Request::PrefixLists {} => Response::PrefixLists(crate::endpoints::prefix_lists(shared)),
        Request::VpnGateways {} => Response::VpnGateways(crate::vpn::vpn_gateways(shared)),
        Request::CustomerGateways {} => {
            Response::CustomerGateways(crate::vpn::customer_gateways(shared))
        }
        Request::VpnConnections {} => Response::VpnConnections(crate::vpn::vpn_connections(shared)),
        Request::VpnConfig { name, format, dir } => {
            match crate::vpn::vpn_config_of(shared.snapshot().topology(), &name, &format, &dir) {
                Ok(r) => Response::VpnConfig(r),
                Err(message) => Response::Error { message },
            }
        }
        Request::CreateDhcpOptions { .. }
        | Request::AssociateDhcpOptions { .. }
        | Request::DeleteDhcpOptions { .. }
        | Request::CreateVpcEndpoint { .. }
        | Request::ModifyVpcEndpoint { .. }
        | Request::DeleteVpcEndpoints { .. }
        | Request::CreateVpnGateway { .. }
        | Request::AttachVpnGateway { .. }
        | Request::DetachVpnGateway { .. }
        | Request::DeleteVpnGateway { .. }
        | Request::CreateCustomerGateway { .. }
        | Request::DeleteCustomerGateway { .. }
        | Request::EnableVgwRoutePropagation { .. }
        | Request::DisableVgwRoutePropagation { .. }
        | Request::CreateVpnConnection { .. }
        | Request::DeleteVpnConnection { .. }
        | Request::CreateVpnConnectionRoute { .. }
        | Request::DeleteVpnConnectionRoute { .. }
        | Request::DeleteNatGateway { .. }
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
        | Request::DeleteVpcPeeringConnection { .. }
        | Request::EnableTransitGatewayRouteTablePropagation { .. }
        | Request::DisableTransitGatewayRouteTablePropagation { .. }
        | Request::AssociateTransitGatewayRouteTable { .. }
        | Request::DisassociateTransitGatewayRouteTable { .. }
        | Request::CreateTransitGatewayRoute { .. }
        | Request::DeleteTransitGatewayRoute { .. }
        | Request::AcceptTransitGatewayAttachment { .. }
        | Request::DeleteTransitGatewayAttachment { .. }
        | Request::RegisterTransitGatewayMulticastGroupMembers { .. }
        | Request::DeregisterTransitGatewayMulticastGroupMembers { .. }
        | Request::RegisterTransitGatewayMulticastGroupSources { .. }
        | Request::DeregisterTransitGatewayMulticastGroupSources { .. }
        | Request::ModifyInstanceMetadataOptions { .. } => change(request, shared),
    }
}

/// Applies topology file `path` over the running configuration (`vpcctl apply`, and
/// SIGHUP with `--config`): loads and validates it (a file that does not load is
/// refused whole, with its file:line:col, and nothing changes), compares it with the
/// running configuration resource by resource (`vpc_config::plan`), and applies it in
/// one swap: no packet sees half of it. New instances and internet hosts get their
/// namespaces before the swap, removed ones lose theirs after it (`live`); the others
/// are not touched. With `dry_run` only the plan. Tracked connections follow AWS's
/// rule-change semantics (`Snapshot::next`). `[limits]` is not live (the tables keep
/// their sizes until the next start; said in a note). Logged, made or refused.
pub fn apply_file(path: &Path, dry_run: bool, shared: &Shared) -> Response {
    let shown = path.display().to_string();
    let new = match vpc_config::load(path) {
        Ok(t) => t,
        Err(e) => {
            tracing::info!("apply {shown}: refused: {e}");
            return Response::Error {
                message: e.to_string(),
            };
        }
    };
    let (changes, notes, result) = apply_topology(new, dry_run, shared);
    match result {
        Err(message) => {
            tracing::info!("apply {shown}: refused: {message}");
            Response::Error { message }
        }
        Ok(applied) => {
            if applied {
                tracing::info!("apply {shown}: applied {}", changes.join(", "));
            }
            Response::Applied(vpc_api::ApplyReport {
                path: shown,
                changes,
                applied,
                notes,
            })
        }
    }
}

/// Applies topology `new` over the running one (see [`apply_file`]); returns the plan's
/// lines, notes, and whether it was applied (`Err`: why not; nothing changed).
pub fn apply_topology(
    new: Topology,
    dry_run: bool,
    shared: &Shared,
) -> (Vec<String>, Vec<String>, Result<bool, String>) {
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let result = apply_with(shared, |before| {
        changes = vpc_config::plan(before, &new)
            .to_string()
            .lines()
            .map(str::to_owned)
            .collect();
        if new.limits != before.limits {
            notes.push(
                "[limits] takes effect at the next start: the running tables keep their sizes"
                    .to_owned(),
            );
        }
        // A file that describes what runs changes nothing: no new snapshot (what the
        // VPN tunnels' supervisor observed is no part of the file).
        let mut new = new.clone();
        new.keep_live_from(before);
        (!dry_run && new != *before).then_some(new)
    });
    let result = result.map(|applied| match applied {
        Applied::Changed { state_error, .. } => {
            notes.extend(state_error);
            true
        }
        Applied::Unchanged => false,
    });
    (changes, notes, result)
}

/// What [`apply_with`] did.
#[derive(Debug)]
pub enum Applied {
    /// Nothing to apply.
    Unchanged,
    /// Applied: the plan's lines, and why the state file could not be written, if it
    /// could not.
    Changed {
        /// The plan (`+ vpc x`, ...).
        plan: Vec<String>,
        /// The state file's failure.
        state_error: Option<String>,
    },
}

/// Changes the running configuration to what `edit` makes of it (`None`: nothing to
/// change), in one swap: new instances' and internet hosts' namespaces are made before
/// it, removed ones' removed after it (`live`), and the state file is written. `Err`
/// says why nothing was applied.
pub fn apply_with(
    shared: &Shared,
    edit: impl FnOnce(&Topology) -> Option<Topology>,
) -> Result<Applied, String> {
    let now = shared.now();
    let mut prepared = None;
    let (plan, result) = shared.engine().edit_prepared(
        now,
        |before| {
            // What the VPN tunnels' supervisor observed stays (it is no configuration).
            let changed = edit(before).map(|mut new| {
                new.keep_live_from(before);
                new
            });
            let plan: Vec<String> = changed
                .as_ref()
                .map(|new| {
                    vpc_config::plan(before, new)
                        .to_string()
                        .lines()
                        .map(|l| l.trim().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (plan, changed)
        },
        |current, next, ports| {
            prepared = Some(live::prepare(shared, current, next, ports)?);
            Ok::<(), String>(())
        },
    );
    if !result? {
        return Ok(Applied::Unchanged);
    }
    if let Some(p) = prepared {
        live::finish(shared, p);
    }
    crate::services::sync_resolv_conf(shared);
    let state_error = shared.save_state().err();
    if let Some(e) = &state_error {
        tracing::warn!("{e}");
    }
    Ok(Applied::Changed { plan, state_error })
}

/// Makes a change: edits a copy of the running topology and applies it whole, so
/// packets see the old configuration or the new one; one change at a time. Logs it.
fn change(request: Request, shared: &Shared) -> Response {
    let mut answer = None;
    let applied = apply_with(shared, |before| {
        let mut edited = before.clone();
        let (what, result) = edit(&request, before, &mut edited);
        let changed = result.is_ok().then_some(edited);
        answer = Some((what, result));
        changed
    });
    let Some((what, result)) = answer else {
        return Response::Error {
            message: "no answer".to_owned(),
        };
    };
    let result = result.and_then(|message| applied.map(|a| (message, a)));
    match result {
        Ok((mut message, applied)) => {
            tracing::info!("vpcctl {what}: {message}");
            if let Applied::Changed {
                state_error: Some(e),
                ..
            } = applied
            {
                message.push_str(&format!(" (but {e})"));
            }
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
        Request::CreateVpcEndpoint {
            name,
            vpc,
            service_name,
            route_tables,
        } => (
            format!("create-vpc-endpoint {name}"),
            edited
                .create_vpc_endpoint(name, vpc, service_name, route_tables)
                .map_err(|e| e.to_string())
                .map(|_| format!("created gateway VPC endpoint {name} of vpc {vpc} to {service_name}")),
        ),
        Request::ModifyVpcEndpoint {
            name,
            add_route_tables,
            remove_route_tables,
        } => (
            format!("modify-vpc-endpoint {name}"),
            edited
                .modify_vpc_endpoint(name, add_route_tables, remove_route_tables)
                .map_err(|e| e.to_string())
                .map(|_| format!("modified VPC endpoint {name}")),
        ),
        Request::DeleteVpcEndpoints { names } => (
            format!("delete-vpc-endpoints {}", names.join(" ")),
            edited
                .delete_vpc_endpoints(names)
                .map_err(|e| e.to_string())
                .map(|_| format!("deleted VPC endpoints {}; their routes are gone", names.join(", "))),
        ),
        Request::CreateVpnGateway {
            name,
            amazon_side_asn,
            availability_zone,
        } => (
            format!("create-vpn-gateway {name}"),
            edited
                .create_vpn_gateway(name, *amazon_side_asn, availability_zone.as_deref())
                .map_err(|e| e.to_string())
                .map(|_| format!("created VPN gateway {name} (detached)")),
        ),
        Request::AttachVpnGateway { name, vpc } => (
            format!("attach-vpn-gateway {name} {vpc}"),
            edited
                .attach_vpn_gateway(name, vpc)
                .map_err(|e| e.to_string())
                .map(|_| format!("attached VPN gateway {name} to vpc {vpc}")),
        ),
        Request::DetachVpnGateway { name, vpc } => (
            format!("detach-vpn-gateway {name} {vpc}"),
            edited
                .detach_vpn_gateway(name, vpc)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "detached VPN gateway {name} from vpc {vpc}; routes to it are blackhole, and its routes are no longer propagated"
                    )
                }),
        ),
        Request::DeleteVpnGateway { name } => (
            format!("delete-vpn-gateway {name}"),
            edited
                .delete_vpn_gateway(name)
                .map_err(|e| e.to_string())
                .map(|_| format!("deleted VPN gateway {name}")),
        ),
        Request::CreateCustomerGateway {
            name,
            ip_address,
            bgp_asn,
            device_name,
        } => (
            format!("create-customer-gateway {name}"),
            address(ip_address).and_then(|ip| {
                edited
                    .create_customer_gateway(name, ip, *bgp_asn, device_name.as_deref())
                    .map_err(|e| e.to_string())
                    .map(|_| format!("created customer gateway {name} at {ip}"))
            }),
        ),
        Request::DeleteCustomerGateway { name } => (
            format!("delete-customer-gateway {name}"),
            edited
                .delete_customer_gateway(name)
                .map_err(|e| e.to_string())
                .map(|_| format!("deleted customer gateway {name}")),
        ),
        Request::EnableVgwRoutePropagation {
            route_table,
            gateway,
        } => (
            format!("enable-vgw-route-propagation {route_table} {gateway}"),
            edited
                .enable_vgw_route_propagation(route_table, gateway)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!("route table {route_table} propagates the routes of VPN gateway {gateway}")
                }),
        ),
        Request::DisableVgwRoutePropagation {
            route_table,
            gateway,
        } => (
            format!("disable-vgw-route-propagation {route_table} {gateway}"),
            edited
                .disable_vgw_route_propagation(route_table, gateway)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "route table {route_table} no longer propagates the routes of VPN gateway {gateway}"
                    )
                }),
        ),
        Request::CreateVpnConnection {
            name,
            customer_gateway,
            vpn_gateway,
            static_routes_only,
            tunnel_inside_cidrs,
            pre_shared_keys,
        } => (
            format!("create-vpn-connection {name}"),
            new_tunnel_options(tunnel_inside_cidrs, pre_shared_keys).and_then(|tunnels| {
                edited
                    .create_vpn_connection(
                        name,
                        customer_gateway,
                        vpn_gateway,
                        *static_routes_only,
                        &tunnels,
                    )
                    .map_err(|e| e.to_string())
                    .map(|_| {
                        let tunnels: Vec<String> = edited
                            .find_vpn_connection(name)
                            .map(|c| edited.vpn_connection(c).tunnels.iter())
                            .into_iter()
                            .flatten()
                            .map(|t| format!("{} ({})", t.outside_ip_address, t.tunnel_inside_cidr))
                            .collect();
                        format!(
                            "created VPN connection {name} between customer gateway {customer_gateway} and VPN gateway {vpn_gateway} ({}); tunnels {}",
                            if *static_routes_only { "static routes" } else { "BGP" },
                            tunnels.join(", ")
                        )
                    })
            }),
        ),
        Request::DeleteVpnConnection { name } => (
            format!("delete-vpn-connection {name}"),
            edited
                .delete_vpn_connection(name)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!("deleted VPN connection {name}; its routes are no longer propagated")
                }),
        ),
        Request::CreateVpnConnectionRoute { name, destination } => (
            format!("create-vpn-connection-route {name} {destination}"),
            cidr(destination).and_then(|c| {
                edited
                    .create_vpn_connection_route(name, c)
                    .map_err(|e| e.to_string())
                    .map(|_| format!("added static route {c} to VPN connection {name}"))
            }),
        ),
        Request::DeleteVpnConnectionRoute { name, destination } => (
            format!("delete-vpn-connection-route {name} {destination}"),
            cidr(destination).and_then(|c| {
                edited
                    .delete_vpn_connection_route(name, c)
                    .map_err(|e| e.to_string())
                    .map(|_| format!("deleted static route {c} from VPN connection {name}"))
            }),
        ),
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
                .map(|_| {
                    format!(
                        "accepted VPC peering connection {name}{}: active; routes to it are active",
                        peered(before, name)
                    )
                }),
        ),
        Request::DeleteVpcPeeringConnection { name } => (
            format!("delete-vpc-peering-connection --vpc-peering-connection-id {name}"),
            edited
                .delete_vpc_peering_connection(name)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "deleted VPC peering connection {name}{}; routes to it are blackhole",
                        peered(before, name)
                    )
                }),
        ),
        Request::EnableTransitGatewayRouteTablePropagation { table, attachment } => (
            format!(
                "enable-transit-gateway-route-table-propagation {}",
                table_and_attachment(table, attachment)
            ),
            edited
                .enable_tgw_route_table_propagation(table, attachment)
                .map_err(|e| e.to_string())
                .map(|_| {
                    let att = edited
                        .find_tgw_attachment(attachment)
                        .map(|a| edited.tgw_attachment(a));
                    let blocks = att
                        .and_then(|a| a.vpc())
                        .map(|v| {
                            let vpc = edited.vpc(v);
                            format!(" (vpc {}: {})", vpc.name, cidrs(&vpc.cidrs))
                        })
                        .unwrap_or_default();
                    let waiting = match att.map(|a| a.status) {
                        Some(AttachmentStatus::Available) | None => String::new(),
                        Some(status) => format!(
                            "; it propagates nothing while it is {}",
                            status.aws_name()
                        ),
                    };
                    format!(
                        "enabled propagation of transit gateway attachment {attachment}{blocks} into transit gateway route table {table}{waiting}"
                    )
                }),
        ),
        Request::DisableTransitGatewayRouteTablePropagation { table, attachment } => (
            format!(
                "disable-transit-gateway-route-table-propagation {}",
                table_and_attachment(table, attachment)
            ),
            edited
                .disable_tgw_route_table_propagation(table, attachment)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "disabled propagation of transit gateway attachment {attachment} into transit gateway route table {table}"
                    )
                }),
        ),
        Request::AssociateTransitGatewayRouteTable { table, attachment } => (
            format!(
                "associate-transit-gateway-route-table {}",
                table_and_attachment(table, attachment)
            ),
            edited
                .associate_tgw_route_table(table, attachment)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "associated transit gateway attachment {attachment} with transit gateway route table {table}: it routes what enters transit gateway {} through {attachment}",
                        tgw_of_table(before, table)
                    )
                }),
        ),
        Request::DisassociateTransitGatewayRouteTable { table, attachment } => (
            format!(
                "disassociate-transit-gateway-route-table {}",
                table_and_attachment(table, attachment)
            ),
            edited
                .disassociate_tgw_route_table(table, attachment)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "disassociated transit gateway attachment {attachment} from transit gateway route table {table}: what enters transit gateway {} through {attachment} is dropped (tgw-no-association) until it is associated again",
                        tgw_of_table(before, table)
                    )
                }),
        ),
        Request::CreateTransitGatewayRoute {
            table,
            destination,
            attachment,
            blackhole,
        } => {
            let target = match (attachment, blackhole) {
                (Some(a), false) => format!("--transit-gateway-attachment-id {a}"),
                (None, true) => "--blackhole".to_owned(),
                (Some(a), true) => format!("--transit-gateway-attachment-id {a} --blackhole"),
                (None, false) => String::new(),
            };
            let what = format!(
                "create-transit-gateway-route --transit-gateway-route-table-id {table} --destination-cidr-block {destination} {target}"
            );
            let result = match (attachment, blackhole) {
                (Some(_), true) => Err(
                    "a transit gateway route targets an attachment or is a blackhole route, not both"
                        .to_owned(),
                ),
                (None, false) => Err(
                    "a transit gateway route needs a target: an attachment (--transit-gateway-attachment-id) or --blackhole"
                        .to_owned(),
                ),
                _ => cidr(destination).and_then(|cidr| {
                    edited
                        .create_tgw_route(table, cidr, attachment.as_deref())
                        .map_err(|e| e.to_string())
                        .map(|_| match attachment {
                            Some(a) => format!(
                                "added a static route to {cidr} via transit gateway attachment {a} to transit gateway route table {table}: {}",
                                tgw_route_state(edited, table, cidr)
                            ),
                            None => format!(
                                "added a blackhole route to {cidr} to transit gateway route table {table}"
                            ),
                        })
                }),
            };
            (what.trim_end().to_owned(), result)
        }
        Request::DeleteTransitGatewayRoute { table, destination } => (
            format!(
                "delete-transit-gateway-route --transit-gateway-route-table-id {table} --destination-cidr-block {destination}"
            ),
            cidr(destination).and_then(|cidr| {
                edited
                    .delete_tgw_route(table, cidr)
                    .map_err(|e| e.to_string())
                    .map(|_| {
                        let propagated = edited
                            .find_tgw_route_table(table)
                            .into_iter()
                            .flat_map(|t| edited.tgw_routes(t))
                            .find(|r| r.destination == cidr)
                            .map(|r| {
                                format!(
                                    "; the route propagated from {} takes its place",
                                    edited.tgw_route_target_name(r.target)
                                )
                            })
                            .unwrap_or_default();
                        format!(
                            "deleted the static route to {cidr} from transit gateway route table {table}{propagated}"
                        )
                    })
            }),
        ),
        Request::AcceptTransitGatewayAttachment { name } => {
            let att = before
                .find_tgw_attachment(name)
                .map(|a| before.tgw_attachment(a));
            let tgw = |g| before.transit_gateway(g).name.clone();
            let (command, what) = match att.map(|a| (a.transit_gateway, &a.kind)) {
                Some((g, TgwAttachmentKind::Peering { peer })) => (
                    "accept-transit-gateway-peering-attachment",
                    format!(
                        "transit gateway peering attachment {name} between transit gateway {} and transit gateway {}",
                        tgw(g),
                        tgw(*peer)
                    ),
                ),
                Some((g, TgwAttachmentKind::Vpc { vpc, .. })) => (
                    "accept-transit-gateway-vpc-attachment",
                    format!(
                        "transit gateway VPC attachment {name} of vpc {} to transit gateway {}",
                        before.vpc(*vpc).name,
                        tgw(g)
                    ),
                ),
                None => (
                    "accept-transit-gateway-vpc-attachment",
                    format!("transit gateway attachment {name}"),
                ),
            };
            (
                format!("{command} --transit-gateway-attachment-id {name}"),
                edited
                    .accept_tgw_attachment(name)
                    .map_err(|e| e.to_string())
                    .map(|_| format!("accepted {what}: available; routes to it are active")),
            )
        }
        Request::DeleteTransitGatewayAttachment { name } => (
            format!("delete-transit-gateway-vpc-attachment --transit-gateway-attachment-id {name}"),
            edited
                .delete_tgw_attachment(name)
                .map_err(|e| e.to_string())
                .map(|_| {
                    format!(
                        "deleted transit gateway attachment {name}: its associations and propagations are gone; routes to it, and the VPC's routes to its gateway, are blackhole"
                    )
                }),
        ),
        Request::RegisterTransitGatewayMulticastGroupMembers {
            domain,
            group,
            network_interfaces,
        } => multicast(
            Registration::RegisterMembers,
            (domain, group, network_interfaces),
            before,
            edited,
        ),
        Request::DeregisterTransitGatewayMulticastGroupMembers {
            domain,
            group,
            network_interfaces,
        } => multicast(
            Registration::DeregisterMembers,
            (domain, group, network_interfaces),
            before,
            edited,
        ),
        Request::RegisterTransitGatewayMulticastGroupSources {
            domain,
            group,
            network_interfaces,
        } => multicast(
            Registration::RegisterSources,
            (domain, group, network_interfaces),
            before,
            edited,
        ),
        Request::DeregisterTransitGatewayMulticastGroupSources {
            domain,
            group,
            network_interfaces,
        } => multicast(
            Registration::DeregisterSources,
            (domain, group, network_interfaces),
            before,
            edited,
        ),
        Request::ModifyInstanceMetadataOptions {
            instance,
            http_tokens,
            http_put_response_hop_limit,
            http_endpoint,
        } => (
            format!("modify-instance-metadata-options --instance-id {instance}"),
            vpc_config::MetadataOptionsChange::from_names(
                http_tokens.as_deref(),
                *http_put_response_hop_limit,
                http_endpoint.as_deref(),
            )
            .and_then(|change| edited.modify_instance_metadata_options(instance, change))
            .map_err(|e| e.to_string())
            .map(|o| {
                format!(
                    "instance {instance}'s metadata options: http_tokens {}, http_put_response_hop_limit {}, http_endpoint {}",
                    o.http_tokens.aws_name(),
                    o.http_put_response_hop_limit,
                    o.http_endpoint.aws_name()
                )
            }),
        ),
        other => crate::dns_report::edit(other, edited)
            .unwrap_or_else(|| (format!("{other:?}"), Err("not a change request".to_owned()))),
    }
}

/// A change to a multicast group's static members or sources.
#[derive(Debug, Clone, Copy)]
enum Registration {
    RegisterMembers,
    DeregisterMembers,
    RegisterSources,
    DeregisterSources,
}

impl Registration {
    /// The command, e.g. `register-transit-gateway-multicast-group-members`.
    fn command(self) -> &'static str {
        match self {
            Registration::RegisterMembers => "register-transit-gateway-multicast-group-members",
            Registration::DeregisterMembers => "deregister-transit-gateway-multicast-group-members",
            Registration::RegisterSources => "register-transit-gateway-multicast-group-sources",
            Registration::DeregisterSources => "deregister-transit-gateway-multicast-group-sources",
        }
    }

    /// Makes the change for one network interface.
    fn apply(
        self,
        t: &mut Topology,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
    ) -> Result<(), vpc_config::EditError> {
        match self {
            Registration::RegisterMembers => t.register_multicast_group_members(domain, group, eni),
            Registration::DeregisterMembers => {
                t.deregister_multicast_group_members(domain, group, eni)
            }
            Registration::RegisterSources => t.register_multicast_group_sources(domain, group, eni),
            Registration::DeregisterSources => {
                t.deregister_multicast_group_sources(domain, group, eni)
            }
        }
    }
}

/// (De)registers network interfaces `enis` as members or sources of multicast group
/// `group` of domain `domain`: all of them, or none if one is refused.
fn multicast(
    registration: Registration,
    (domain, group, enis): (&String, &String, &Vec<String>),
    before: &Topology,
    edited: &mut Topology,
) -> (String, Result<String, String>) {
    let what = format!(
        "{} --transit-gateway-multicast-domain-id {domain} --group-ip-address {group} --network-interface-ids {}",
        registration.command(),
        enis.join(" ")
    );
    if enis.is_empty() {
        let why = "name at least one network interface (--network-interface-ids)";
        return (what.trim_end().to_owned(), Err(why.to_owned()));
    }
    let Ok(ip) = group.parse::<Ipv4Addr>() else {
        return (what, Err(format!("{group:?} is not an IPv4 address")));
    };
    for eni in enis {
        if let Err(e) = registration.apply(edited, domain, ip, eni) {
            return (what, Err(e.to_string()));
        }
    }
    let names: Vec<String> = enis
        .iter()
        .map(|e| {
            before
                .find_eni(e)
                .map_or(e.clone(), |e| before.eni_name(e).to_string())
        })
        .collect();
    let (verb, role) = match registration {
        Registration::RegisterMembers => ("registered", "member"),
        Registration::DeregisterMembers => ("deregistered", "member"),
        Registration::RegisterSources => ("registered", "source"),
        Registration::DeregisterSources => ("deregistered", "source"),
    };
    let role = if names.len() == 1 {
        format!("a {role}")
    } else {
        format!("{role}s")
    };
    let message = format!(
        "{verb} {} as {role} of group {ip} in multicast domain {domain}",
        names.join(", ")
    );
    (what, Ok(message))
}

/// A transit gateway route table and an attachment as the commands write them.
fn table_and_attachment(table: &str, attachment: &str) -> String {
    format!("--transit-gateway-route-table-id {table} --transit-gateway-attachment-id {attachment}")
}

/// The name of the transit gateway of route table `table` (`?` if there is none).
fn tgw_of_table(t: &Topology, table: &str) -> String {
    t.find_tgw_route_table(table).map_or("?".to_owned(), |r| {
        t.transit_gateway(t.tgw_route_table(r).transit_gateway)
            .name
            .clone()
    })
}

/// The state (`active` or `blackhole`) of the effective route to `destination` of
/// transit gateway route table `table`.
fn tgw_route_state(t: &Topology, table: &str, destination: Ipv4Net) -> &'static str {
    t.find_tgw_route_table(table)
        .into_iter()
        .flat_map(|r| t.tgw_routes(r))
        .find(|r| r.destination == destination)
        .map_or("blackhole", |r| r.state.aws_name())
}

/// `cidr` as a CIDR block, or why not.
fn cidr(cidr: &str) -> Result<Ipv4Net, String> {
    cidr.parse::<Ipv4Net>()
        .map_err(|_| format!("{cidr:?} is not an IPv4 CIDR block"))
}

/// The tunnel options of `create-vpn-connection`: per tunnel (in order) its inside
/// CIDR and pre-shared key, each given or vpcd's choice; at most two.
fn new_tunnel_options(
    inside_cidrs: &[String],
    pre_shared_keys: &[String],
) -> Result<Vec<vpc_config::edit::NewTunnelOptions>, String> {
    let n = inside_cidrs.len().max(pre_shared_keys.len());
    if n > 2 {
        return Err(format!(
            "a VPN connection has two tunnels; options for {n} given"
        ));
    }
    (0..n)
        .map(|k| {
            Ok(vpc_config::edit::NewTunnelOptions {
                tunnel_inside_cidr: inside_cidrs.get(k).map(|c| cidr(c)).transpose()?,
                pre_shared_key: pre_shared_keys.get(k).cloned(),
                ..Default::default()
            })
        })
        .collect()
}

/// CIDR blocks, comma separated.
fn cidrs(blocks: &[Ipv4Net]) -> String {
    let blocks: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
    blocks.join(", ")
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
    use crate::report::tests::{FABRIC, HUB_AND_SPOKE, PEERING, shared, tgw_routes};

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
    fn instance_metadata_options_are_modified_and_shown() {
        let s = shared(PEERING);
        let web = report::status(&s).instances[0].clone();
        let name = web.name.clone();
        assert_eq!(
            web.metadata_options,
            vpc_api::MetadataOptionsStatus::default()
        );
        let modify = |tokens: Option<&str>, hops: Option<i64>, endpoint: Option<&str>| {
            Request::ModifyInstanceMetadataOptions {
                instance: name.clone(),
                http_tokens: tokens.map(str::to_owned),
                http_put_response_hop_limit: hops,
                http_endpoint: endpoint.map(str::to_owned),
            }
        };
        assert_eq!(
            made(&s, modify(Some("required"), Some(2), None)),
            Ok(format!(
                "instance {name}'s metadata options: http_tokens required, http_put_response_hop_limit 2, http_endpoint enabled"
            ))
        );
        assert_eq!(
            report::status(&s).instances[0].metadata_options,
            vpc_api::MetadataOptionsStatus {
                http_tokens: "required".into(),
                http_put_response_hop_limit: 2,
                http_endpoint: "enabled".into(),
            }
        );
        assert_eq!(
            made(&s, modify(None, Some(65), None)),
            Err("http_put_response_hop_limit 65 is not 1 to 64".into())
        );
        assert_eq!(
            made(&s, modify(Some("always"), None, None)),
            Err("http_tokens \"always\" is not one of AWS's values (optional, required)".into())
        );
        assert_eq!(
            made(
                &s,
                Request::ModifyInstanceMetadataOptions {
                    instance: "ghost".into(),
                    http_tokens: None,
                    http_put_response_hop_limit: None,
                    http_endpoint: Some("disabled".into()),
                }
            ),
            Err("there is no instance \"ghost\"".into())
        );
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

    #[test]
    fn vpn_connections_and_their_static_routes_are_changed() {
        let src = format!(
            "{}\n[[customer_gateway]]\nname = \"dc\"\nip_address = \"203.0.113.62\"\n\n[[vpn_connection]]\nname = \"vpn-dc\"\ncustomer_gateway = \"dc\"\nvpn_gateway = \"vgw\"\nstatic_routes_only = true\nroutes = [\"172.18.0.0/16\"]\n",
            include_str!("../../../config/vpn.toml")
        );
        let s = shared(&src);
        let routes = |s: &Shared| {
            let r = crate::vpn::vpn_connections(s);
            r.vpn_connections
                .iter()
                .find(|c| c.name == "vpn-dc")
                .map(|c| c.routes.join(" "))
                .unwrap_or_default()
        };
        let route = |create: bool, name: &str, destination: &str| {
            let (name, destination) = (name.to_owned(), destination.to_owned());
            if create {
                Request::CreateVpnConnectionRoute { name, destination }
            } else {
                Request::DeleteVpnConnectionRoute { name, destination }
            }
        };
        assert_eq!(
            made(&s, route(true, "vpn-dc", "172.19.0.0/16")),
            Ok("added static route 172.19.0.0/16 to VPN connection vpn-dc".into())
        );
        assert_eq!(routes(&s), "172.18.0.0/16 172.19.0.0/16");
        assert_eq!(
            made(&s, route(true, "vpn-dc", "172.19.0.0/16")),
            Err("VPN connection \"vpn-dc\" already has a route to 172.19.0.0/16".into())
        );
        assert_eq!(
            made(&s, route(true, "vpn-hq", "172.19.0.0/16")),
            Err("VPN connection \"vpn-hq\" uses BGP: static routes are for a connection with static routes only".into())
        );
        assert_eq!(
            made(&s, route(true, "vpn-dc", "x")),
            Err("\"x\" is not an IPv4 CIDR block".into())
        );
        assert_eq!(
            made(&s, route(false, "vpn-dc", "172.18.0.0/16")),
            Ok("deleted static route 172.18.0.0/16 from VPN connection vpn-dc".into())
        );
        assert_eq!(routes(&s), "172.19.0.0/16");
        assert_eq!(
            made(&s, route(false, "vpn-dc", "172.18.0.0/16")),
            Err("VPN connection \"vpn-dc\" has no route to 172.18.0.0/16".into())
        );
        let create = |cgw: &str, cidrs: &[&str]| Request::CreateVpnConnection {
            name: "vpn-x".into(),
            customer_gateway: cgw.into(),
            vpn_gateway: "vgw".into(),
            static_routes_only: false,
            tunnel_inside_cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
            pre_shared_keys: vec![],
        };
        assert_eq!(
            made(&s, create("nope", &[])),
            Err("\"nope\" is not a customer gateway".into())
        );
        assert_eq!(
            made(&s, create("hq", &[])),
            Err("vpn_connection \"vpn-hq\" already joins customer gateway \"hq\" and VPN gateway \"vgw\"; AWS allows one connection per pair".into())
        );
        assert_eq!(
            made(
                &s,
                create(
                    "dc",
                    &["169.254.20.0/30", "169.254.20.4/30", "169.254.20.8/30"]
                )
            ),
            Err("a VPN connection has two tunnels; options for 3 given".into())
        );
        assert_eq!(
            made(&s, create("dc", &["169.254.20.1"])),
            Err("\"169.254.20.1\" is not an IPv4 CIDR block".into())
        );
        assert_eq!(
            made(
                &s,
                Request::DeleteVpnConnection {
                    name: "nope".into()
                }
            ),
            Err("\"nope\" is not a VPN connection".into())
        );
    }

    fn table(table: &str, attachment: &str) -> (String, String) {
        (table.to_owned(), attachment.to_owned())
    }

    #[test]
    fn transit_gateway_propagations_and_static_routes_change_the_effective_routes() {
        let s = shared(HUB_AND_SPOKE);
        let routes = |t: &str| tgw_routes(&report::routes(&s), t);
        assert_eq!(
            routes("spokes-rt"),
            ["10.10.0.0/16 att-shared propagated active"]
        );
        let (table, attachment) = table("spokes-rt", "att-s2");
        assert_eq!(
            made(
                &s,
                Request::EnableTransitGatewayRouteTablePropagation {
                    table: table.clone(),
                    attachment: attachment.clone()
                }
            ),
            Ok("enabled propagation of transit gateway attachment att-s2 (vpc spoke2: 10.12.0.0/16) into transit gateway route table spokes-rt".into())
        );
        assert_eq!(
            routes("spokes-rt"),
            [
                "10.10.0.0/16 att-shared propagated active",
                "10.12.0.0/16 att-s2 propagated active"
            ]
        );
        // A static route hides the propagated one; deleting it brings it back.
        let create = |target: Option<&str>| Request::CreateTransitGatewayRoute {
            table: table.clone(),
            destination: "10.12.0.0/16".into(),
            attachment: target.map(str::to_owned),
            blackhole: target.is_none(),
        };
        assert_eq!(
            made(&s, create(None)),
            Ok(
                "added a blackhole route to 10.12.0.0/16 to transit gateway route table spokes-rt"
                    .into()
            )
        );
        assert_eq!(
            routes("spokes-rt")[1],
            "10.12.0.0/16 blackhole static blackhole"
        );
        assert_eq!(
            made(&s, create(Some("att-s2"))),
            Err("route table \"spokes-rt\" already has a static route to 10.12.0.0/16".into())
        );
        let delete = Request::DeleteTransitGatewayRoute {
            table: table.clone(),
            destination: "10.12.0.0/16".into(),
        };
        assert_eq!(
            made(&s, delete.clone()),
            Ok("deleted the static route to 10.12.0.0/16 from transit gateway route table spokes-rt; the route propagated from att-s2 takes its place".into())
        );
        assert_eq!(
            routes("spokes-rt")[1],
            "10.12.0.0/16 att-s2 propagated active"
        );
        assert_eq!(
            made(
                &s,
                Request::DisableTransitGatewayRouteTablePropagation {
                    table: table.clone(),
                    attachment: attachment.clone()
                }
            ),
            Ok("disabled propagation of transit gateway attachment att-s2 into transit gateway route table spokes-rt".into())
        );
        assert_eq!(
            routes("spokes-rt"),
            ["10.10.0.0/16 att-shared propagated active"]
        );
        assert_eq!(
            made(&s, create(Some("att-s2"))),
            Ok("added a static route to 10.12.0.0/16 via transit gateway attachment att-s2 to transit gateway route table spokes-rt: active".into())
        );
        assert_eq!(routes("spokes-rt")[1], "10.12.0.0/16 att-s2 static active");
        assert_eq!(
            made(&s, delete.clone()),
            Ok("deleted the static route to 10.12.0.0/16 from transit gateway route table spokes-rt".into())
        );
        assert_eq!(
            made(&s, delete),
            Err("route table \"spokes-rt\" has no static route to 10.12.0.0/16".into())
        );
        // Refusals: a route with no target or two, a bad block, a non-canonical one.
        for (attachment, blackhole, destination, why) in [
            (
                None,
                false,
                "10.12.0.0/16",
                "a transit gateway route needs a target: an attachment (--transit-gateway-attachment-id) or --blackhole",
            ),
            (
                Some("att-s2"),
                true,
                "10.12.0.0/16",
                "a transit gateway route targets an attachment or is a blackhole route, not both",
            ),
            (
                None,
                true,
                "10.12.0.0",
                "\"10.12.0.0\" is not an IPv4 CIDR block",
            ),
            (
                None,
                true,
                "10.12.0.1/16",
                "10.12.0.1/16 is not canonical: host bits are set (did you mean 10.12.0.0/16?)",
            ),
        ] {
            let request = Request::CreateTransitGatewayRoute {
                table: table.clone(),
                destination: destination.into(),
                attachment: attachment.map(str::to_owned),
                blackhole,
            };
            assert_eq!(made(&s, request), Err(why.to_owned()));
        }
    }

    #[test]
    fn transit_gateway_attachments_are_associated_and_disassociated() {
        let s = shared(HUB_AND_SPOKE);
        let (table, attachment) = table("iso-rt", "att-iso");
        let disassociate = Request::DisassociateTransitGatewayRouteTable {
            table: table.clone(),
            attachment: attachment.clone(),
        };
        assert_eq!(
            made(&s, disassociate.clone()),
            Ok("disassociated transit gateway attachment att-iso from transit gateway route table iso-rt: what enters transit gateway tgw through att-iso is dropped (tgw-no-association) until it is associated again".into())
        );
        assert_eq!(
            made(&s, disassociate),
            Err("transit gateway attachment \"att-iso\" is not associated with route table \"iso-rt\"".into())
        );
        let r = report::routes(&s);
        let iso = r
            .transit_gateway_route_tables
            .iter()
            .find(|t| t.name == "iso-rt");
        assert!(iso.unwrap().associations.is_empty());
        let associate = |table: &str| Request::AssociateTransitGatewayRouteTable {
            table: table.into(),
            attachment: attachment.clone(),
        };
        assert_eq!(
            made(&s, associate("spokes-rt")),
            Ok("associated transit gateway attachment att-iso with transit gateway route table spokes-rt: it routes what enters transit gateway tgw through att-iso".into())
        );
        assert_eq!(
            made(&s, associate("iso-rt")),
            Err("transit gateway attachment \"att-iso\" is already associated with route table \"spokes-rt\"; an attachment has one route table per transit gateway (disassociate it first)".into())
        );
        assert_eq!(
            made(&s, associate("nope-rt")),
            Err("there is no transit gateway route table \"nope-rt\"".into())
        );
    }

    #[test]
    fn transit_gateway_attachments_are_accepted() {
        let s = shared(FABRIC);
        let accept = |name: &str| Request::AcceptTransitGatewayAttachment { name: name.into() };
        let status = |name: &str| {
            let r = report::transit_gateways(&s);
            let east = &r.transit_gateways[0];
            let a = east.attachments.iter().find(|a| a.name == name);
            a.unwrap().status.clone()
        };
        assert_eq!(status("att-b"), "pending-acceptance");
        assert_eq!(
            made(&s, accept("att-b")),
            Ok("accepted transit gateway VPC attachment att-b of vpc b to transit gateway east: available; routes to it are active".into())
        );
        assert_eq!(status("att-b"), "available");
        // Now it propagates into east's default table.
        assert!(
            tgw_routes(&report::routes(&s), "east-default")
                .contains(&"10.2.0.0/16 att-b propagated active".to_owned())
        );
        assert_eq!(
            made(&s, accept("east-west")),
            Ok("accepted transit gateway peering attachment east-west between transit gateway east and transit gateway west: available; routes to it are active".into())
        );
        assert_eq!(
            made(&s, accept("east-west")),
            Err(
                "transit gateway attachment \"east-west\" is available, not pending-acceptance"
                    .into()
            )
        );
        // The log names the command by the attachment's kind.
        let t = vpc_config::parse(FABRIC, "test.toml").unwrap();
        let what = |name: &str| edit(&accept(name), &t, &mut t.clone()).0;
        assert_eq!(
            what("att-b"),
            "accept-transit-gateway-vpc-attachment --transit-gateway-attachment-id att-b"
        );
        assert_eq!(
            what("east-west"),
            "accept-transit-gateway-peering-attachment --transit-gateway-attachment-id east-west"
        );
    }

    #[test]
    fn multicast_group_members_and_sources_are_registered_all_or_none() {
        let s = shared(FABRIC);
        let groups = || {
            let r = report::multicast_domains(&s);
            let d = &r.multicast_domains[0];
            d.groups
                .iter()
                .map(|g| {
                    format!(
                        "{} members [{}] sources [{}]",
                        g.group,
                        g.members.join(" "),
                        g.sources.join(" ")
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            groups(),
            ["239.1.1.1 members [recv/eth0] sources [sender/eth0]"]
        );
        let enis = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let members =
            |group: &str, names: &[&str]| Request::RegisterTransitGatewayMulticastGroupMembers {
                domain: "mcast".into(),
                group: group.into(),
                network_interfaces: enis(names),
            };
        // One refusal refuses them all: sender is not added either.
        assert_eq!(
            made(&s, members("239.1.1.1", &["sender", "recv"])),
            Err(
                "recv/eth0 is already a member of group 239.1.1.1 in multicast domain \"mcast\""
                    .into()
            )
        );
        assert_eq!(
            groups(),
            ["239.1.1.1 members [recv/eth0] sources [sender/eth0]"]
        );
        assert_eq!(
            made(&s, members("239.2.2.2", &["sender", "recv/eth0"])),
            Ok("registered sender/eth0, recv/eth0 as members of group 239.2.2.2 in multicast domain mcast".into())
        );
        assert_eq!(
            made(
                &s,
                Request::RegisterTransitGatewayMulticastGroupSources {
                    domain: "mcast".into(),
                    group: "239.2.2.2".into(),
                    network_interfaces: enis(&["recv"]),
                }
            ),
            Ok(
                "registered recv/eth0 as a source of group 239.2.2.2 in multicast domain mcast"
                    .into()
            )
        );
        assert_eq!(
            made(
                &s,
                Request::DeregisterTransitGatewayMulticastGroupMembers {
                    domain: "mcast".into(),
                    group: "239.1.1.1".into(),
                    network_interfaces: enis(&["recv"]),
                }
            ),
            Ok(
                "deregistered recv/eth0 as a member of group 239.1.1.1 in multicast domain mcast"
                    .into()
            )
        );
        assert_eq!(
            made(
                &s,
                Request::DeregisterTransitGatewayMulticastGroupSources {
                    domain: "mcast".into(),
                    group: "239.1.1.1".into(),
                    network_interfaces: enis(&["sender/eth0"]),
                }
            ),
            Ok(
                "deregistered sender/eth0 as a source of group 239.1.1.1 in multicast domain mcast"
                    .into()
            )
        );
        assert_eq!(
            groups(),
            ["239.2.2.2 members [sender/eth0 recv/eth0] sources [recv/eth0]"]
        );
        for (request, why) in [
            (
                members("224.0.0.5", &["sender"]),
                "224.0.0.5 is not a multicast group address: use 224.0.0.0/4 outside 224.0.0.0/24 (local network control)",
            ),
            (
                members("239.1.1", &["sender"]),
                "\"239.1.1\" is not an IPv4 address",
            ),
            (
                members("239.1.1.1", &[]),
                "name at least one network interface (--network-interface-ids)",
            ),
            (
                members("239.1.1.1", &["nobody"]),
                "\"nobody\" is not a network interface (write an instance's name for its eth0, or instance/ethN)",
            ),
        ] {
            assert_eq!(made(&s, request), Err(why.to_owned()));
        }
    }
}
