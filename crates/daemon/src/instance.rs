//! One instance on the host: a network namespace named after it, and per ENI a TUN
//! device `ethN` created inside that namespace (so it never exists in the host's), with
//! the ENI's address, its subnet route and a default route via the subnet router.
//! Configured over a netlink socket opened inside the namespace; the host's namespace
//! gets no address and no route. The daemon keeps the TUN file descriptors.

use std::net::{IpAddr, Ipv4Addr};

use futures::TryStreamExt;
use rtnetlink::{Handle as Netlink, LinkUnspec, RouteMessageBuilder};
use tokio::runtime::Handle;
use tun_rs::{DeviceBuilder, Layer, SyncDevice};
use vpc_config::{InstanceId, Topology, addressing};

use crate::error::SetupError;
use crate::netns::{self, Identity};
use crate::owner::Ownership;

/// The MTU of every ENI: AWS's jumbo frame size inside a VPC.
pub const ENI_MTU: u16 = 9001;

/// Route metric of the default route via `ethN`, N > 0 (eth0's is 0), as ec2-net-utils
/// does, so eth0 stays the default.
const SECONDARY_DEFAULT_METRIC: u32 = 10_000;

/// What the kernel side of an ENI needs.
#[derive(Debug, Clone)]
struct EniPlan {
    device: String,
    ip: Ipv4Addr,
    prefix_len: u8,
    router: Ipv4Addr,
    metric: Option<u32>,
}

/// An instance on the host.
pub struct BuiltInstance {
    /// Its namespace's identity when created.
    pub identity: Identity,
    /// Its TUN devices, eth0 first.
    pub devices: Vec<SyncDevice>,
}

impl std::fmt::Debug for BuiltInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltInstance")
            .field("identity", &self.identity)
            .field("devices", &self.devices.len())
            .finish()
    }
}

/// Creates instance `id`'s namespace `namespace` and devices. The namespace is recorded
/// in `owner` before it is created.
pub fn build(
    topology: &Topology,
    id: InstanceId,
    namespace: &str,
    owner: &mut Ownership,
    rt: &Handle,
) -> Result<BuiltInstance, SetupError> {
    let plans: Vec<EniPlan> = topology
        .instance(id)
        .enis
        .iter()
        .map(|&e| {
            let eni = topology.eni(e);
            let cidr = topology.subnet(eni.subnet).cidr;
            EniPlan {
                device: eni.device().to_string(),
                ip: eni.private_ip,
                prefix_len: cidr.prefix_len(),
                router: addressing::router(cidr),
                metric: (eni.device_index > 0)
                    .then(|| SECONDARY_DEFAULT_METRIC + u32::from(eni.device_index)),
            }
        })
        .collect();
    let marker = owner.marker();
    let rt = rt.clone();
    owner.intend(namespace)?;
    let (identity, devices) = netns::create(namespace, move || setup(&plans, &marker, &rt))?;
    owner.created(namespace);
    Ok(BuiltInstance { identity, devices })
}

/// Runs inside the new namespace: ownership marker, IPv6 off, TUN devices, addresses
/// and routes.
fn setup(plans: &[EniPlan], marker: &str, rt: &Handle) -> Result<Vec<SyncDevice>, SetupError> {
    netns::with_netlink(rt, async |netlink| {
        mark(netlink, marker).await?;
        let devices = make_devices(plans)?;
        configure(netlink, plans).await?;
        Ok(devices)
    })
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

fn make_devices(plans: &[EniPlan]) -> Result<Vec<SyncDevice>, SetupError> {
    // IPv6 is not part of the VPC yet; without this the kernel sends router
    // solicitations and MLD reports on every device. /proc/sys/net follows the thread's
    // namespace. Must precede device creation.
    for conf in ["all", "default"] {
        let path = format!("/proc/sys/net/ipv6/conf/{conf}/disable_ipv6");
        std::fs::write(&path, "1").map_err(SetupError::io(format!("write {path}")))?;
    }
    let mut devices = Vec::with_capacity(plans.len());
    for p in plans {
        let dev = DeviceBuilder::new()
            .name(&p.device)
            .layer(Layer::L3)
            .packet_information(false)
            .mtu(ENI_MTU)
            .inherit_enable_state()
            .build_sync()
            .map_err(SetupError::io(format!("create TUN device {}", p.device)))?;
        devices.push(dev);
    }
    Ok(devices)
}

/// Per ENI: link up, address (which adds the subnet route), default route.
async fn configure(nl: &Netlink, plans: &[EniPlan]) -> Result<(), SetupError> {
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
        let mut route = RouteMessageBuilder::<Ipv4Addr>::new()
            .gateway(p.router)
            .output_interface(index);
        if let Some(metric) = p.metric {
            route = route.priority(metric);
        }
        nl.route()
            .add(route.build())
            .execute()
            .await
            .map_err(SetupError::netlink(format!(
                "add default route via {} on {}",
                p.router, p.device
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
