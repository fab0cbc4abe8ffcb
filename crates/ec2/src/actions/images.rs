//! `DescribeImages`, `DescribeInstanceTypes`, `GetInstanceUefiData`: vpcd's fixed
//! catalog of machine images and instance types.
//!
//! An instance is a network namespace, so an image or a type changes nothing about it:
//! the catalog only has to answer what clients look up before `RunInstances`
//! (Terraform's `data "aws_ami"` filters images by `name`, `architecture`,
//! `owner-alias`, ... with `Owner.N`; `aws_instance` reads its type's
//! `DescribeInstanceTypes`). The images are `vpcd-linux` (x86_64 and arm64) and images
//! named like the ones common configurations search for (Amazon Linux 2023, Amazon
//! Linux 2, Ubuntu 24.04), all EBS-backed (`/dev/xvda`), HVM, available, public, and
//! the same in every region. Owners: the Amazon ones are owned by Amazon's account
//! (alias `amazon`), Ubuntu by Canonical's (no alias); `Owner.N` takes an account,
//! `amazon`, or `self`, which vpcd answers with the `vpcd-linux` images (vpcd's own
//! images belong to every account). `GetInstanceUefiData` answers
//! `InvalidInstanceID.NotFound` for an image ID (what AWS answers; Terraform sends it
//! and ignores that answer), and an instance's (empty) UEFI data otherwise.

use super::{Ctx, Outcome};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::Kind;
use crate::xml::Xml;

/// Amazon's account, owner of the Amazon Linux and `vpcd-linux` images.
pub const AMAZON_ACCOUNT: &str = "137112412989";
/// Canonical's account, owner of the Ubuntu images.
pub const CANONICAL_ACCOUNT: &str = "099720109477";

/// One image of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Image {
    /// `ami-` and 17 hex digits.
    pub id: &'static str,
    /// Its name (what `name` filters match).
    pub name: &'static str,
    /// Its description.
    pub description: &'static str,
    /// `x86_64` or `arm64`.
    pub architecture: &'static str,
    /// The owning account.
    pub owner: &'static str,
    /// `amazon`, or none.
    pub owner_alias: Option<&'static str>,
    /// Whether `Owner.N = self` lists it.
    pub vpcd: bool,
    /// Its creation date.
    pub created: &'static str,
}

/// The images, the default one (for instances written without `image_id`) first.
pub const IMAGES: [Image; 6] = [
    Image {
        id: "ami-0c0ffee0000000001",
        name: "vpcd-linux-2025.12-x86_64",
        description: "vpcd Linux: a network namespace of the vpcd router",
        architecture: "x86_64",
        owner: AMAZON_ACCOUNT,
        owner_alias: Some("amazon"),
        vpcd: true,
        created: "2025-12-01T00:00:00.000Z",
    },
    Image {
        id: "ami-0c0ffee0000000002",
        name: "vpcd-linux-2025.12-arm64",
        description: "vpcd Linux: a network namespace of the vpcd router",
        architecture: "arm64",
        owner: AMAZON_ACCOUNT,
        owner_alias: Some("amazon"),
        vpcd: true,
        created: "2025-12-01T00:00:00.000Z",
    },
    Image {
        id: "ami-0c0ffee0000000003",
        name: "al2023-ami-2023.9.20251201.0-kernel-6.1-x86_64",
        description: "Amazon Linux 2023 AMI (a vpcd namespace)",
        architecture: "x86_64",
        owner: AMAZON_ACCOUNT,
        owner_alias: Some("amazon"),
        vpcd: false,
        created: "2025-12-01T00:00:00.000Z",
    },
    Image {
        id: "ami-0c0ffee0000000004",
        name: "al2023-ami-2023.9.20251201.0-kernel-6.1-arm64",
        description: "Amazon Linux 2023 AMI (a vpcd namespace)",
        architecture: "arm64",
        owner: AMAZON_ACCOUNT,
        owner_alias: Some("amazon"),
        vpcd: false,
        created: "2025-12-01T00:00:00.000Z",
    },
    Image {
        id: "ami-0c0ffee0000000005",
        name: "amzn2-ami-hvm-2.0.20251201.0-x86_64-gp2",
        description: "Amazon Linux 2 AMI (a vpcd namespace)",
        architecture: "x86_64",
        owner: AMAZON_ACCOUNT,
        owner_alias: Some("amazon"),
        vpcd: false,
        created: "2025-12-01T00:00:00.000Z",
    },
    Image {
        id: "ami-0c0ffee0000000006",
        name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251201",
        description: "Canonical, Ubuntu, 24.04, amd64 noble image (a vpcd namespace)",
        architecture: "x86_64",
        owner: CANONICAL_ACCOUNT,
        owner_alias: None,
        vpcd: false,
        created: "2025-12-01T00:00:00.000Z",
    },
];

/// The image with ID `id`.
pub fn image(id: &str) -> Option<&'static Image> {
    IMAGES.iter().find(|i| i.id == id)
}

/// The root device of every image.
pub const ROOT_DEVICE: &str = "/dev/xvda";
/// The size of every root volume, GiB.
pub const ROOT_VOLUME_GIB: u32 = 8;

/// One instance type of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct InstanceType {
    /// `t3.micro`, ...
    pub name: &'static str,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// `x86_64` or `arm64`.
    pub architecture: &'static str,
    /// `standard` or `unlimited` for burstable types (AWS's default credit option).
    pub credits: Option<&'static str>,
    /// Network interfaces it takes.
    pub max_enis: u32,
    /// AWS's wording of its bandwidth.
    pub network: &'static str,
}

const fn ty(
    name: &'static str,
    vcpus: u32,
    memory_mib: u64,
    architecture: &'static str,
    credits: Option<&'static str>,
    max_enis: u32,
    network: &'static str,
) -> InstanceType {
    InstanceType {
        name,
        vcpus,
        memory_mib,
        architecture,
        credits,
        max_enis,
        network,
    }
}

/// The instance types, the default one (for instances written without
/// `instance_type`) first.
pub const INSTANCE_TYPES: [InstanceType; 14] = [
    ty(
        "t3.micro",
        2,
        1024,
        "x86_64",
        Some("unlimited"),
        2,
        "Up to 5 Gigabit",
    ),
    ty(
        "t3.nano",
        2,
        512,
        "x86_64",
        Some("unlimited"),
        2,
        "Up to 5 Gigabit",
    ),
    ty(
        "t3.small",
        2,
        2048,
        "x86_64",
        Some("unlimited"),
        3,
        "Up to 5 Gigabit",
    ),
    ty(
        "t3.medium",
        2,
        4096,
        "x86_64",
        Some("unlimited"),
        3,
        "Up to 5 Gigabit",
    ),
    ty(
        "t3.large",
        2,
        8192,
        "x86_64",
        Some("unlimited"),
        3,
        "Up to 5 Gigabit",
    ),
    ty(
        "t2.micro",
        1,
        1024,
        "x86_64",
        Some("standard"),
        2,
        "Low to Moderate",
    ),
    ty(
        "t2.small",
        1,
        2048,
        "x86_64",
        Some("standard"),
        3,
        "Low to Moderate",
    ),
    ty(
        "t2.medium",
        2,
        4096,
        "x86_64",
        Some("standard"),
        3,
        "Low to Moderate",
    ),
    ty(
        "t4g.micro",
        2,
        1024,
        "arm64",
        Some("unlimited"),
        2,
        "Up to 5 Gigabit",
    ),
    ty(
        "t4g.small",
        2,
        2048,
        "arm64",
        Some("unlimited"),
        3,
        "Up to 5 Gigabit",
    ),
    ty("m5.large", 2, 8192, "x86_64", None, 3, "Up to 10 Gigabit"),
    ty("m5.xlarge", 4, 16384, "x86_64", None, 4, "Up to 10 Gigabit"),
    ty("c5.large", 2, 4096, "x86_64", None, 3, "Up to 10 Gigabit"),
    ty("r5.large", 2, 16384, "x86_64", None, 3, "Up to 10 Gigabit"),
];

/// The instance type named `name`.
pub fn instance_type(name: &str) -> Option<&'static InstanceType> {
    INSTANCE_TYPES.iter().find(|t| t.name == name)
}

struct ImageItem {
    image: &'static Image,
    tags: Vec<(String, String)>,
}

impl Filterable for ImageItem {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let i = self.image;
        let one = |s: &str| Some(vec![s.to_owned()]);
        match name {
            "image-id" => one(i.id),
            "name" => one(i.name),
            "description" => one(i.description),
            "architecture" => one(i.architecture),
            "owner-id" => one(i.owner),
            "owner-alias" => Some(i.owner_alias.iter().map(|a| a.to_string()).collect()),
            "state" => one("available"),
            "is-public" => one("true"),
            "image-type" => one("machine"),
            "root-device-type" => one("ebs"),
            "root-device-name" => one(ROOT_DEVICE),
            "virtualization-type" => one("hvm"),
            "hypervisor" => one("xen"),
            "ena-support" => one("true"),
            "platform-details" | "platform" => one("Linux/UNIX"),
            "creation-date" => one(i.created),
            "block-device-mapping.device-name" => one(ROOT_DEVICE),
            "block-device-mapping.volume-type" => one("gp3"),
            "block-device-mapping.volume-size" => one(&ROOT_VOLUME_GIB.to_string()),
            "block-device-mapping.delete-on-termination" => one("true"),
            "block-device-mapping.encrypted" => one("false"),
            "boot-mode" => one("uefi-preferred"),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

fn image_xml(x: &mut Xml, i: &Image) {
    x.leaf("imageId", i.id)
        .leaf(
            "imageLocation",
            format!("{}/{}", i.owner_alias.unwrap_or(i.owner), i.name),
        )
        .leaf("imageState", "available")
        .leaf("imageOwnerId", i.owner)
        .leaf("creationDate", i.created)
        .leaf("isPublic", true)
        .leaf("architecture", i.architecture)
        .leaf("imageType", "machine")
        .leaf("platformDetails", "Linux/UNIX")
        .leaf("usageOperation", "RunInstances")
        .opt("imageOwnerAlias", i.owner_alias)
        .leaf("name", i.name)
        .leaf("description", i.description)
        .leaf("rootDeviceType", "ebs")
        .leaf("rootDeviceName", ROOT_DEVICE)
        .open("blockDeviceMapping")
        .open("item")
        .leaf("deviceName", ROOT_DEVICE)
        .open("ebs")
        .leaf("snapshotId", format!("snap-{}", &i.id[4..]))
        .leaf("volumeSize", ROOT_VOLUME_GIB)
        .leaf("deleteOnTermination", true)
        .leaf("volumeType", "gp3")
        .leaf("iops", 3000)
        .leaf("throughput", 125)
        .leaf("encrypted", false)
        .close("ebs")
        .close("item")
        .close("blockDeviceMapping")
        .leaf("virtualizationType", "hvm")
        .leaf("hypervisor", "xen")
        .leaf("enaSupport", true)
        .leaf("sriovNetSupport", "simple")
        .leaf("bootMode", "uefi-preferred")
        .leaf("imdsSupport", "v2.0");
}

/// `DescribeImages`: `ImageId.N`, `Owner.N` (account, `amazon`, `self`),
/// `ExecutableBy.N` (ignored: every image is public), `IncludeDeprecated`,
/// `Filter.N`, `MaxResults`, `NextToken`.
pub fn describe_images(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let wanted = ctx.p.strings("ImageId");
    let owners = ctx.p.strings("Owner");
    let mut items = Vec::new();
    if wanted.is_empty() {
        items.extend(IMAGES.iter());
    } else {
        for id in &wanted {
            let i = image(id).ok_or_else(|| {
                if id.starts_with("ami-") {
                    ApiError::new(
                        "InvalidAMIID.NotFound",
                        format!("The image id '[{id}]' does not exist"),
                    )
                } else {
                    ApiError::new(
                        "InvalidAMIID.Malformed",
                        format!("Invalid id: \"{id}\" (expecting \"ami-...\")"),
                    )
                }
            })?;
            items.push(i);
        }
    }
    let items: Vec<ImageItem> = items
        .into_iter()
        .filter(|i| {
            owners.is_empty()
                || owners.iter().any(|o| match o.as_str() {
                    "self" => i.vpcd,
                    alias if i.owner_alias == Some(alias) => true,
                    account => account == i.owner,
                })
        })
        .map(|image| ImageItem {
            image,
            tags: Vec::new(),
        })
        .collect();
    super::described(ctx, "imagesSet", items, |x, i| image_xml(x, i.image))
}

struct TypeItem(&'static InstanceType);

impl Filterable for TypeItem {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.0;
        let one = |s: String| Some(vec![s]);
        match name {
            "instance-type" => one(t.name.to_owned()),
            "vcpu-info.default-vcpus" => one(t.vcpus.to_string()),
            "memory-info.size-in-mib" => one(t.memory_mib.to_string()),
            "processor-info.supported-architecture" => one(t.architecture.to_owned()),
            "burstable-performance-supported" => one(t.credits.is_some().to_string()),
            "current-generation" => one("true".to_owned()),
            "free-tier-eligible" => one(matches!(t.name, "t2.micro" | "t3.micro").to_string()),
            "hypervisor" => one("nitro".to_owned()),
            "network-info.maximum-network-interfaces" => one(t.max_enis.to_string()),
            "supported-root-device-type" => one("ebs".to_owned()),
            "supported-virtualization-type" => one("hvm".to_owned()),
            "supported-usage-class" => Some(vec!["on-demand".to_owned(), "spot".to_owned()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &[]
    }
}

fn type_xml(x: &mut Xml, t: &InstanceType) {
    let threads = if t.vcpus > 1 { 2 } else { 1 };
    x.leaf("instanceType", t.name)
        .leaf("currentGeneration", true)
        .leaf(
            "freeTierEligible",
            matches!(t.name, "t2.micro" | "t3.micro"),
        )
        .set("supportedUsageClasses", &["on-demand", "spot"], |x, c| {
            x.raw(c);
        })
        .set("supportedRootDeviceTypes", &["ebs"], |x, c| {
            x.raw(c);
        })
        .set("supportedVirtualizationTypes", &["hvm"], |x, c| {
            x.raw(c);
        })
        .leaf("bareMetal", false)
        .leaf("hypervisor", "nitro")
        .open("processorInfo")
        .set("supportedArchitectures", &[t.architecture], |x, a| {
            x.raw(a);
        })
        .leaf("sustainedClockSpeedInGhz", "2.5")
        .close("processorInfo")
        .open("vCpuInfo")
        .leaf("defaultVCpus", t.vcpus)
        .leaf("defaultCores", t.vcpus / threads)
        .leaf("defaultThreadsPerCore", threads)
        .close("vCpuInfo")
        .open("memoryInfo")
        .leaf("sizeInMiB", t.memory_mib)
        .close("memoryInfo")
        .leaf("instanceStorageSupported", false)
        .open("ebsInfo")
        .leaf("ebsOptimizedSupport", "default")
        .leaf("encryptionSupport", "supported")
        .leaf("nvmeSupport", "required")
        .close("ebsInfo")
        .open("networkInfo")
        .leaf("networkPerformance", t.network)
        .leaf("maximumNetworkInterfaces", t.max_enis)
        .leaf("maximumNetworkCards", 1)
        .leaf("defaultNetworkCardIndex", 0)
        .leaf("ipv4AddressesPerInterface", 1)
        .leaf("ipv6AddressesPerInterface", 0)
        .leaf("ipv6Supported", false)
        .leaf("enaSupport", "required")
        .leaf("efaSupported", false)
        .close("networkInfo")
        .open("placementGroupInfo")
        .set("supportedStrategies", &["partition", "spread"], |x, s| {
            x.raw(s);
        })
        .close("placementGroupInfo")
        .leaf("hibernationSupported", false)
        .leaf("burstablePerformanceSupported", t.credits.is_some())
        .leaf("dedicatedHostsSupported", false)
        .leaf("autoRecoverySupported", true)
        .set("supportedBootModes", &["legacy-bios", "uefi"], |x, m| {
            x.raw(m);
        });
}

/// `DescribeInstanceTypes`: `InstanceType.N`, `Filter.N`, `MaxResults`, `NextToken`.
/// A type not in the catalog is `InvalidInstanceType`.
pub fn describe_instance_types(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let wanted = ctx.p.strings("InstanceType");
    let mut items = Vec::new();
    if wanted.is_empty() {
        items.extend(INSTANCE_TYPES.iter().map(TypeItem));
    } else {
        for name in &wanted {
            items.push(TypeItem(
                instance_type(name).ok_or_else(|| unknown_type(name))?,
            ));
        }
    }
    super::described(ctx, "instanceTypeSet", items, |x, t| type_xml(x, t.0))
}

/// `InvalidInstanceType`, AWS's answer for a type it does not offer.
pub fn unknown_type(name: &str) -> ApiError {
    ApiError::new(
        "InvalidInstanceType",
        format!(
            "The following supplied instance types do not exist: [{name}] (vpcd offers {})",
            INSTANCE_TYPES
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// `GetInstanceUefiData`: `InstanceId`. An instance has no UEFI variables (empty
/// `uefiData`); anything else, an image ID included, is `InvalidInstanceID.NotFound`
/// (`.Malformed` if it cannot be an instance ID).
pub fn get_instance_uefi_data(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("InstanceId")?;
    if id.starts_with("ami-") {
        return Err(ApiError::new(
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{id}' does not exist"),
        ));
    }
    let i = ctx.find(Kind::Instance, id)?;
    let mut x = Xml::new();
    x.leaf(
        "instanceId",
        crate::ids::id(Kind::Instance, &ctx.t.instances[i].name),
    )
    .leaf("uefiData", "");
    Outcome::read(x.finish())
}
