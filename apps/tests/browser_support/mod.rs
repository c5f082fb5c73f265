//! Browser-test support: a minimal WebDriver client for chromedriver + headless Chromium.

pub mod webdriver;

use webdriver::Browser;

/// Logs `name` in from the voting page (which redirects to the login form) and waits until the
/// voting page's socket is open.
#[allow(dead_code)]
pub fn log_in(b: &Browser, base: &str, name: &str) {
    b.goto(&format!("{base}/vote"));
    assert!(
        b.url().ends_with("/login"),
        "redirected to login: {}",
        b.url()
    );
    b.type_into(&b.find("#name"), name);
    b.click(&b.find("#login"));
    b.wait_for("location.pathname === '/vote'", "the voting page");
    b.wait_for(
        "document.getElementById('state').textContent === 'open'",
        "the voting socket",
    );
}
