//! Every example topology in `config/` parses and validates, and the embedded demo is
//! the file `config/demo.toml`, unchanged.

use std::path::Path;

#[test]
fn every_example_in_config_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("config/ exists") {
        let path = entry.expect("readable config/ entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(e) = vpc_config::load(&path) {
                panic!("{} is invalid:\n{e}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 1, "no example in {}", dir.display());
}

#[test]
fn the_demo_is_the_issue_topology() {
    let t = vpc_config::Topology::demo();
    let subnets: Vec<(&str, String, &str)> = t
        .subnets
        .iter()
        .map(|s| (s.name.as_str(), s.cidr.to_string(), s.az.as_str()))
        .collect();
    assert_eq!(
        subnets,
        [
            ("public-a", "10.0.1.0/24".to_string(), "a"),
            ("private-a", "10.0.2.0/24".to_string(), "a"),
            ("public-b", "10.0.11.0/24".to_string(), "b"),
            ("private-b", "10.0.12.0/24".to_string(), "b"),
        ]
    );
    let instances: Vec<(String, String)> = t
        .enis
        .iter()
        .map(|e| {
            (
                t.instance(e.instance).name.clone(),
                e.private_ip.to_string(),
            )
        })
        .collect();
    assert_eq!(
        instances,
        [
            ("web".to_string(), "10.0.1.10".to_string()),
            ("app".to_string(), "10.0.2.10".to_string()),
            ("db".to_string(), "10.0.12.10".to_string()),
        ]
    );
    let demo_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/demo.toml");
    assert_eq!(
        std::fs::read_to_string(demo_file).unwrap(),
        vpc_config::DEMO_TOML
    );
}
