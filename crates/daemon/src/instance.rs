//! One instance, or one host of the emulated internet, on the host: a network namespace
//! named after it, and TUN devices created inside that namespace (so they never exist
//! in the host's), each with its address and routes; or, with `--io xdp`, veth pairs
//! whose instance end is the device and whose other end lives in the daemon's port
//! namespace (see `xdp`). An instance has one device `ethN`
//! per ENI, with the ENI's address, its subnet route and a default route via the subnet
//! router; an internet host has one device `eth0` with its public address as a /32 and a
//! default route on the device (no gateway: the daemon's internet router decides).
//! Configured over a netlink socket opened inside the namespace; the host's namespace
//! gets no address and no route. The daemon keeps the TUN file descriptors.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;

use futures::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute};
use rtnetlink::packet_route::route::{RouteScope, RouteType};
use rtnetlink::{Handle as Netlink, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};
use tokio::runtime::Handle;
use tun_rs::{DeviceBuilder, Layer, SyncDevice};
use vpc_config::{HostId, HostRole, InstanceId, Topology, addressing};
use vpc_dataplane::{Port, Ports, link};

use crate::error::SetupError;
use crate::netns::{self, Identity};
use crate::owner::Ownership;

/// The MTU of every ENI: AWS's jumbo frame size inside a VPC.
pub const ENI_MTU: u16 = 9001;

/// The MTU of an internet host's device: the internet's (and the internet gateway's).
pub const INTERNET_MTU: u16 = 1500;

/// The MTU of an ENI that is a veth with an AF_XDP port: the largest a veth takes when
/// its peer has an XDP program without multi-buffer support (a page, less the XDP
/// headroom and the kernel's per-packet overhead: 3506), rounded down.
pub const VETH_ENI_MTU: u16 = 3500;

/// Route metric of the default route via `ethN`, N > 0 (eth0's is 0), as ec2-net-utils
/// does, so eth0 stays the default.
const SECONDARY_DEFAULT_METRIC: u32 = 10_000;

/// Where a device's default route goes.
#[derive(Debug, Clone)]
enum DefaultRoute {
    /// Via a gateway (an ENI's subnet router), with an optional metric.
    Via(Ipv4Addr, Option<u32>),
    /// Straight out of the device, no gateway (an internet host).
    OnLink,
    /// A VPN gateway's router namespace: only these blocks (its VPC's) out of the
    /// device, and a blackhole default (what no tunnel routes goes nowhere).
    Blocks(Vec<Ipv4Net>),
}

/// What the kernel side of one device needs.
#[derive(Debug, Clone)]
struct DevicePlan {
    device: String,
    /// Its port (for a veth: the MAC address of its end) and the port's index in the
    /// per-port tables (`vpc_dataplane::Ports`: the name of the other end).
    port: Port,
    slot: usize,
    mtu: u16,
    ip: Ipv4Addr,
    prefix_len: u8,
    /// More addresses, each a /32.
    also: Vec<Ipv4Addr>,
    default_route: DefaultRoute,
}

/// The devices of one namespace, eth0 first.
#[derive(Debug, Clone)]
pub struct Plan {
    devices: Vec<DevicePlan>,
    /// Open them with virtio-net headers and offloads (checksum, TSO4/6, USO4/6 where
    /// the kernel has them).
    offload: bool,
    /// Queues per device: one per forwarding thread (`IFF_MULTI_QUEUE` if more than
    /// one, each conversation kept on one queue by `sys::bpf::steer`).
    queues: usize,
    /// Veth pairs instead of TUN devices, the other end in this namespace.
    veth: Option<String>,
    /// Addresses for the loopback device (a customer gateway's site's hosts), /32s.
    loopback: Vec<Ipv4Addr>,
    /// IPv4 forwarding on (a VPN gateway's router namespace).
    forwarding: bool,
}

impl Plan {
    /// The same devices with `queues` queues each.
    pub fn with_queues(self, queues: usize) -> Plan {
        Plan {
            queues: queues.max(1),
            ..self
        }
    }

    /// The same devices as veth pairs whose other ends go to namespace `ports` (named
    /// by [`peer_name`]); an ENI's MTU is then [`VETH_ENI_MTU`].
    pub fn with_veth(self, ports: &str) -> Plan {
        let devices = self
            .devices
            .into_iter()
            .map(|d| DevicePlan {
                mtu: d.mtu.min(VETH_ENI_MTU),
                ..d
            })
            .collect();
        Plan {
            devices,
            veth: Some(ports.to_owned()),
            offload: false,
            ..self
        }
    }

    /// A namespace with no device (the daemon's port namespace).
    pub fn empty() -> Plan {
        Plan {
            devices: Vec::new(),
            offload: false,
            queues: 1,
            veth: None,
            loopback: Vec::new(),
            forwarding: false,
        }
    }

    /// Instance `id`: one device per ENI, MTU 9001, the subnet's prefix, a default
    /// route via the subnet router; offloads if `offload`. `ports` numbers the slots.
    pub fn instance(topology: &Topology, ports: &Ports, id: InstanceId, offload: bool) -> Plan {
        let devices = topology
            .instance(id)
            .enis
            .iter()
            .map(|&e| {
                let eni = topology.eni(e);
                let cidr = topology.subnet(eni.subnet).cidr;
                let metric = (eni.device_index > 0)
                    .then(|| SECONDARY_DEFAULT_METRIC + u32::from(eni.device_index));
                DevicePlan {
                    device: eni.device().to_string(),
                    port: Port::Eni(e),
                    slot: ports.slot(Port::Eni(e)),
                    mtu: ENI_MTU,
                    ip: eni.private_ip,
                    prefix_len: cidr.prefix_len(),
                    also: Vec::new(),
                    default_route: DefaultRoute::Via(addressing::router(cidr), metric),
                }
            })
            .collect();
        Plan {
            devices,
            offload,
            queues: 1,
            veth: None,
            loopback: Vec::new(),
            forwarding: false,
        }
    }

    /// Internet host `id`: `eth0`, MTU 1500, its address as a /32, a default route on
    /// the device; offloads if `offload`. `ports` numbers the slots. A customer
    /// gateway's site also gets its hosts' addresses on loopback. A VPN gateway's far
    /// end (its router namespace, docs/vpn.md) instead has MTU 9001 (an ENI's), routes
    /// to its VPC's blocks only, a blackhole default and forwarding on.
    pub fn host(topology: &Topology, ports: &Ports, id: HostId, offload: bool) -> Plan {
        let host = topology.internet_host(id);
        let (mut mtu, mut default_route, mut loopback, mut forwarding) =
            (INTERNET_MTU, DefaultRoute::OnLink, Vec::new(), false);
        match host.role {
            HostRole::Site(g) => loopback = topology.customer_gateway(g).site_addresses.clone(),
            HostRole::VpnGateway(g) => {
                let blocks = topology
                    .vpn_gateway(g)
                    .vpc
                    .map(|v| topology.vpc(v).cidrs.clone())
                    .unwrap_or_default();
                (mtu, default_route, forwarding) = (ENI_MTU, DefaultRoute::Blocks(blocks), true);
            }
            HostRole::Declared | HostRole::Tunnel(..) => {}
        }
        Plan {
            offload,
            queues: 1,
            veth: None,
            loopback,
            forwarding,
            devices: vec![DevicePlan {
                device: "eth0".to_owned(),
                port: Port::Host(id),
                slot: ports.slot(Port::Host(id)),
                mtu,
                ip: host.address,
                prefix_len: 32,
                also: Vec::new(),
                default_route,
            }],
        }
    }

    /// The services namespace (`services`): `svc0`, MTU 9001 (an ENI's), the metadata
    /// and DNS link-local addresses as /32s, a default route on the device (every
    /// client address is behind it); offloads if `offload`.
    pub fn services(ports: &Ports, offload: bool) -> Plan {
        Plan {
            offload,
            queues: 1,
            veth: None,
            loopback: Vec::new(),
            forwarding: false,
            devices: vec![DevicePlan {
                device: "svc0".to_owned(),
                port: Port::Services,
                slot: ports.slot(Port::Services),
                mtu: ENI_MTU,
                ip: addressing::METADATA,
                prefix_len: 32,
                also: vec![addressing::DNS_LINK_LOCAL],
                default_route: DefaultRoute::OnLink,
            }],
        }
    }
}

/// A namespace on the host with its devices.
pub struct Built {
    /// Its namespace's identity when created.
    pub identity: Identity,
    /// Its TUN devices, in the order of the plan (eth0 first): each device's queues.
    pub devices: Vec<Vec<SyncDevice>>,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("identity", &self.identity)
            .field("devices", &self.devices.len())
            .finish()
    }
}

/// Creates namespace `namespace` with the devices of `plan`. The namespace is recorded
/// in `owner` before it is created.
pub fn build(
    plan: Plan,
    namespace: &str,
    owner: &mut Ownership,
    rt: &Handle,
) -> Result<Built, SetupError> {
    let marker = owner.marker();
    let rt = rt.clone();
    owner.intend(namespace)?;
    let (identity, devices) = netns::create(namespace, move || setup(&plan, &marker, &rt))?;
    owner.created(namespace);
    Ok(Built { identity, devices })
}

/// The name of the daemon's end, in the port namespace, of the veth of the port with
/// index `slot` in the per-port tables (`vpc_dataplane::Ports`): `p<slot>`.
pub fn peer_name(slot: usize) -> String {
    format!("p{slot}")
}

/// Runs inside the new namespace: ownership marker, IPv6 off, TUN devices (or veth
/// pairs), addresses and routes.
fn setup(plan: &Plan, marker: &str, rt: &Handle) -> Result<Vec<Vec<SyncDevice>>, SetupError> {
    netns::with_netlink(rt, async |netlink| {
        mark(netlink, marker).await?;
        let devices = match &plan.veth {
            None => make_devices(&plan.devices, plan.offload, plan.queues)?,
            Some(ports) => {
                disable_ipv6()?;
                make_veths(netlink, &plan.devices, plan.queues, ports).await?;
                Vec::new()
            }
        };
        configure(netlink, &plan.devices).await?;
        let lo = link_index(netlink, "lo").await?;
        for &ip in &plan.loopback {
            netlink
                .address()
                .add(lo, IpAddr::V4(ip), 32)
                .execute()
                .await
                .map_err(SetupError::netlink(format!("add {ip}/32 to lo")))?;
        }
        if plan.forwarding {
            for (path, value) in [
                ("/proc/sys/net/ipv4/ip_forward", "1"),
                ("/proc/sys/net/ipv4/conf/all/rp_filter", "0"),
                ("/proc/sys/net/ipv4/conf/default/rp_filter", "0"),
            ] {
                std::fs::write(path, value).map_err(SetupError::io(format!("write {path}")))?;
            }
        }
        Ok(devices)
    })
}

/// Turns IPv6 off in the calling thread's namespace: it is not part of the VPC (nor of
/// the emulated internet) yet; without this the kernel sends router solicitations and
/// MLD reports on every device. /proc/sys/net follows the thread's namespace. Must
/// precede device creation.
fn disable_ipv6() -> Result<(), SetupError> {
    for conf in ["all", "default"] {
        let path = format!("/proc/sys/net/ipv6/conf/{conf}/disable_ipv6");
        std::fs::write(&path, "1").map_err(SetupError::io(format!("write {path}")))?;
    }
    Ok(())
}

/// Creates a veth pair per device of `plans`, `queues` queues each way: the device
/// here, with the port's MAC address and transmit checksums complete (see
/// `sys::netdev`), its peer ([`peer_name`]) created straight into namespace `ports`.
async fn make_veths(
    nl: &Netlink,
    plans: &[DevicePlan],
    queues: usize,
    ports: &str,
) -> Result<(), SetupError> {
    let path = netns::path(ports);
    let ns =
        std::fs::File::open(&path).map_err(SetupError::io(format!("open {}", path.display())))?;
    let queues = u32::try_from(queues).unwrap_or(1);
    for p in plans {
        let peer = LinkMessageBuilder::<LinkUnspec>::new()
            .name(peer_name(p.slot))
            .mtu(u32::from(p.mtu))
            .append_extra_attribute(LinkAttribute::NumTxQueues(queues))
            .append_extra_attribute(LinkAttribute::NumRxQueues(queues))
            .setns_by_fd(ns.as_raw_fd())
            .build();
        let link = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
            .name(p.device.clone())
            .mtu(u32::from(p.mtu))
            .address(link::port_mac(p.port).to_vec())
            .append_extra_attribute(LinkAttribute::NumTxQueues(queues))
            .append_extra_attribute(LinkAttribute::NumRxQueues(queues))
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .build();
        nl.link()
            .add(link)
            .execute()
            .await
            .map_err(SetupError::netlink(format!("create veth {}", p.device)))?;
        crate::sys::netdev::tx_checksum_off(&p.device).map_err(SetupError::io(format!(
            "turn transmit checksum offload off on {}",
            p.device
        )))?;
    }
    Ok(())
}

/// Marks the namespace as this daemon's (see `owner`) and brings up loopback.
async fn mark(nl: &Netlink, marker: &str) -> Result<(), SetupError> {
    let lo = link_index(nl, "lo").await?;
    nl.link()
        .set(
            LinkUnspec::new_with_index(lo)
                .up()
                .alias(marker.to_owned())
                .build(),
        )
        .execute()
        .await
        .map_err(SetupError::netlink("mark and bring up lo"))
}

/// Creates the TUN devices of `plans`, each with `queues` queues (opened here: a queue
/// is found by its device's name, in this namespace).
fn make_devices(
    plans: &[DevicePlan],
    offload: bool,
    queues: usize,
) -> Result<Vec<Vec<SyncDevice>>, SetupError> {
    disable_ipv6()?;
    let mut devices = Vec::with_capacity(plans.len());
    for p in plans {
        let dev = DeviceBuilder::new()
            .name(&p.device)
            .layer(Layer::L3)
            .packet_information(false)
            .offload(offload)
            .multi_queue(queues > 1)
            .mtu(p.mtu)
            .inherit_enable_state()
            .build_sync()
            .map_err(SetupError::io(format!("create TUN device {}", p.device)))?;
        if queues > 1 {
            // Each conversation on one queue, for good (`sys::bpf::steer`).
            crate::sys::bpf::steer(dev.as_raw_fd()).map_err(SetupError::io(format!(
                "give TUN device {} its steering program",
                p.device
            )))?;
        }
        let mut all = Vec::with_capacity(queues);
        for q in 1..queues {
            all.push(
                dev.try_clone()
                    .map_err(SetupError::io(format!("open queue {q} of {}", p.device)))?,
            );
        }
        all.insert(0, dev);
        devices.push(all);
    }
    Ok(devices)
}

/// Per device: link up, address (which adds the subnet route), default route.
async fn configure(nl: &Netlink, plans: &[DevicePlan]) -> Result<(), SetupError> {
    for p in plans {
        let index = link_index(nl, &p.device).await?;
        nl.link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(SetupError::netlink(format!("bring up {}", p.device)))?;
        nl.address()
            .add(index, IpAddr::V4(p.ip), p.prefix_len)
            .execute()
            .await
            .map_err(SetupError::netlink(format!(
                "add {}/{} to {}",
                p.ip, p.prefix_len, p.device
            )))?;
        for &ip in &p.also {
            nl.address()
                .add(index, IpAddr::V4(ip), 32)
                .execute()
                .await
                .map_err(SetupError::netlink(format!("add {ip}/32 to {}", p.device)))?;
        }
        let route = RouteMessageBuilder::<Ipv4Addr>::new().output_interface(index);
        let (route, what) = match &p.default_route {
            &DefaultRoute::Via(router, metric) => {
                let mut route = route.gateway(router);
                if let Some(metric) = metric {
                    route = route.priority(metric);
                }
                (route, format!("via {router} on"))
            }
            // As `ip route add default dev eth0` does.
            DefaultRoute::OnLink => (route.scope(RouteScope::Link), "on".to_owned()),
            DefaultRoute::Blocks(blocks) => {
                for b in blocks {
                    let r = RouteMessageBuilder::<Ipv4Addr>::new()
                        .output_interface(index)
                        .destination_prefix(b.addr(), b.prefix_len())
                        .scope(RouteScope::Link);
                    nl.route()
                        .add(r.build())
                        .execute()
                        .await
                        .map_err(SetupError::netlink(format!(
                            "add route {b} on {}",
                            p.device
                        )))?;
                }
                let blackhole = RouteMessageBuilder::<Ipv4Addr>::new().kind(RouteType::BlackHole);
                (blackhole, "blackhole, not".to_owned())
            }
        };
        nl.route()
            .add(route.build())
            .execute()
            .await
            .map_err(SetupError::netlink(format!(
                "add default route {what} {}",
                p.device
            )))?;
    }
    Ok(())
}

async fn link_index(nl: &Netlink, name: &str) -> Result<u32, SetupError> {
    let mut links = nl.link().get().match_name(name.to_owned()).execute();
    match links
        .try_next()
        .await
        .map_err(SetupError::netlink(format!("find {name}")))?
    {
        Some(link) => Ok(link.header.index),
        None => Err(SetupError::Thread(format!(
            "device {name} vanished during setup"
        ))),
    }
}
