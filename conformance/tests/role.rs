//! The roles: names, agents and engine arguments.

use ws_conformance::role::Role;

#[test]
fn each_role_has_its_own_name_and_agent_and_names_parse_back() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.name()), Some(role));
        let others = Role::ALL.into_iter().filter(|r| *r != role);
        for other in others {
            assert_ne!(role.agent(), other.agent());
            assert_ne!(role.name(), other.name());
        }
    }
    assert_eq!(Role::parse("server-tasks"), None);
    assert_eq!(Role::parse("external"), None);
    assert!(!Role::ALL.contains(&Role::External));
}

#[test]
fn only_the_loop_roles_select_an_engine_and_only_the_firmware_declines_deflate() {
    assert_eq!(Role::ServerLoop.engine_args(), ["--engine", "loop"]);
    assert_eq!(Role::ServerAppLoop.engine_args(), ["--engine", "app-loop"]);
    assert!(Role::Server.engine_args().is_empty());
    // Every engine runs the driver, which negotiates permessage-deflate; the firmware has no
    // inflater.
    assert!(Role::ServerMcu.deflate_note().is_some());
    assert!(Role::Server.deflate_note().is_none() && Role::Client.deflate_note().is_none());
    assert!(Role::ServerLoop.deflate_note().is_none());
    assert!(Role::ServerAppLoop.deflate_note().is_none());
    assert!(Role::Server.is_server() && Role::ServerLoop.is_server() && !Role::Client.is_server());
    assert!(Role::ServerAppLoop.is_server() && !Role::ServerAppLoop.is_tls());
    assert!(Role::ServerMcu.is_server() && Role::External.is_server());
}

#[test]
fn the_roles_that_start_ws_server_are_its_three_engines_and_tls() {
    let started: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| r.runs_ws_server())
        .collect();
    assert_eq!(
        started,
        [
            Role::Server,
            Role::ServerLoop,
            Role::ServerAppLoop,
            Role::ServerTls
        ]
    );
    assert!(!Role::External.runs_ws_server());
}

#[test]
fn the_tls_roles_are_one_server_and_one_client() {
    assert!(Role::ServerTls.is_server() && Role::ServerTls.is_tls());
    assert!(!Role::ClientTls.is_server() && Role::ClientTls.is_tls());
    assert!(!Role::Server.is_tls() && !Role::Client.is_tls());
    assert!(Role::ServerTls.engine_args().is_empty());
    assert!(Role::ServerTls.describe().contains("sections 1-10"));
}
