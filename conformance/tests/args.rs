//! Command-line parsing.

use ws_conformance::args::Args;
use ws_conformance::role::Role;

fn parse(a: &[&str]) -> Result<Args, String> {
    Args::parse(a.iter().map(|s| s.to_string()))
}

#[test]
fn defaults_are_a_full_run_of_every_role() {
    let a = parse(&[]).unwrap();
    assert_eq!(
        (a.roles.clone(), a.cases.clone(), a.is_partial()),
        (
            vec![
                Role::Server,
                Role::ServerLoop,
                Role::ServerAppLoop,
                Role::Client,
                Role::ServerMcu,
                Role::ServerTls,
                Role::ClientTls
            ],
            vec!["*".to_owned()],
            false
        )
    );
    assert_eq!(a.out, std::path::PathBuf::from("target/autobahn"));
    assert_eq!(
        a.expected,
        std::path::PathBuf::from("conformance/expected.json")
    );
}

#[test]
fn cases_and_role_make_a_partial_run_which_cannot_update_the_file() {
    let a = parse(&["--cases", "1.*, 6.4.*", "--role", "client"]).unwrap();
    assert_eq!(a.cases, ["1.*", "6.4.*"]);
    assert!(a.is_partial() && a.runs(Role::Client) && !a.runs(Role::Server));
    assert!(parse(&["--cases", "1.*", "--update-expected"]).is_err());
    // Rewriting the expected results of some roles only is fine; of some cases it is not.
    assert!(parse(&["--role", "server-loop", "--update-expected"]).is_ok());
    assert!(parse(&["--update-expected"]).unwrap().update_expected);
}

#[test]
fn roles_are_a_list_kept_in_run_order_without_repeats() {
    let a = parse(&["--role", "client,server-loop,client"]).unwrap();
    assert_eq!(a.roles, [Role::ServerLoop, Role::Client]);
    assert!(a.is_partial());
    let a = parse(&["--role", "server-loop, all"]).unwrap();
    assert_eq!(a.roles, Role::ALL);
    assert!(!a.is_partial());
}

#[test]
fn bad_arguments_are_errors() {
    assert!(parse(&["--role", "peer"]).is_err());
    assert!(parse(&["--role", "both"]).is_err());
    assert!(parse(&["--role", ","]).is_err());
    assert!(parse(&["--out"]).is_err());
    assert!(parse(&["--frobnicate"]).is_err());
    assert!(parse(&["--cases", ","]).is_err());
}

#[test]
fn a_url_runs_the_external_role_alone_and_never_updates_the_file() {
    let a = parse(&["--url", "ws://192.0.2.7:8080/echo"]).unwrap();
    assert_eq!(a.roles, [Role::External]);
    assert_eq!(a.url.as_deref(), Some("ws://192.0.2.7:8080/echo"));
    assert!(a.is_partial());
    assert!(parse(&["--url", "ws://127.0.0.1:9001", "--cases", "1.*"]).is_ok());
    assert!(parse(&["--url", "ws://127.0.0.1:9001", "--update-expected"]).is_err());
    assert!(parse(&["--url", "ws://127.0.0.1:9001", "--role", "server"]).is_err());
    assert!(parse(&["--url", "http://127.0.0.1:9001"]).is_err());
    assert!(parse(&["--url", "ws:///echo"]).is_err());
    assert!(parse(&["--url"]).is_err());
}

#[test]
fn the_mcu_role_is_named_and_its_firmware_and_qemu_can_be_given() {
    let a = parse(&[
        "--role",
        "server-mcu",
        "--firmware",
        "fw.elf",
        "--qemu",
        "/opt/q",
    ])
    .unwrap();
    assert_eq!(a.roles, [Role::ServerMcu]);
    assert_eq!(a.firmware, std::path::PathBuf::from("fw.elf"));
    assert_eq!(a.qemu, std::path::PathBuf::from("/opt/q"));
    let d = parse(&[]).unwrap();
    assert!(d
        .firmware
        .ends_with("thumbv7em-none-eabihf/release/ws-net-echo"));
    // `external` is not a role one can name: it needs a URL.
    assert!(parse(&["--role", "external"]).is_err());
}

#[test]
fn a_full_run_gives_the_tls_roles_sections_1_to_10_and_a_partial_run_its_cases() {
    let a = parse(&[]).unwrap();
    assert_eq!(a.cases_for(Role::Server), ["*"]);
    // The echo as an application runs every case, sections 12/13 included (scripts/conformance
    // says why).
    assert_eq!(a.cases_for(Role::ServerAppLoop), ["*"]);
    let tls = a.cases_for(Role::ServerTls);
    assert_eq!(tls.len(), 10);
    assert_eq!((tls[0].as_str(), tls[9].as_str()), ("1.*", "10.*"));
    assert_eq!(a.cases_for(Role::ClientTls), tls);
    let a = parse(&["--cases", "12.1.*", "--role", "client-tls"]).unwrap();
    assert_eq!(a.cases_for(Role::ClientTls), ["12.1.*"]);
}
