//! Command-line parsing.

use ws_conformance::args::{Args, Roles};

fn parse(a: &[&str]) -> Result<Args, String> {
    Args::parse(a.iter().map(|s| s.to_string()))
}

#[test]
fn defaults_are_a_full_run_of_both_roles() {
    let a = parse(&[]).unwrap();
    assert_eq!(
        (a.roles, a.cases.clone(), a.is_partial()),
        (Roles::Both, vec!["*".to_owned()], false)
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
    assert!(a.is_partial() && a.roles.client() && !a.roles.server());
    assert!(parse(&["--cases", "1.*", "--update-expected"]).is_err());
    assert!(parse(&["--update-expected"]).unwrap().update_expected);
}

#[test]
fn bad_arguments_are_errors() {
    assert!(parse(&["--role", "peer"]).is_err());
    assert!(parse(&["--out"]).is_err());
    assert!(parse(&["--frobnicate"]).is_err());
    assert!(parse(&["--cases", ","]).is_err());
}
