//! The apps' pages and static files, shipped inside the binary; the two dynamic pages are minijinja
//! templates (Jinja syntax, auto-escaping on for `.html`, so a user name or candidate is always text).

use minijinja::{context, Environment};
use serde::Serialize;

pub use crate::names::MAX_NAME_CHARS;

/// One candidate as the voting page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateView {
    /// The id a vote sends.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Current count.
    pub count: u64,
    /// Whether the logged-in user votes for it.
    pub mine: bool,
}

/// The compiled templates.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    /// Loads the built-in templates.
    pub fn new() -> Pages {
        let mut env = Environment::new();
        // The templates are compile-time constants checked by the tests below; a syntax error there is
        // a bug in this crate, so it is reported when rendering rather than making `new` fallible.
        for (name, src) in [
            ("login.html", include_str!("../assets/login.html")),
            ("vote.html", include_str!("../assets/vote.html")),
        ] {
            if let Err(e) = env.add_template(name, src) {
                log_template_error(name, &e);
            }
        }
        Pages { env }
    }

    /// The login form, with an optional error and the name typed so far.
    pub fn login(&self, error: Option<&str>, name: &str) -> Result<String, minijinja::Error> {
        self.env.get_template("login.html")?.render(context! {
            error => error,
            name => name,
            max_name => MAX_NAME_CHARS,
        })
    }

    /// The voting page for `user`, counts rendered on the server.
    pub fn vote(
        &self,
        user: &str,
        candidates: &[CandidateView],
    ) -> Result<String, minijinja::Error> {
        self.env.get_template("vote.html")?.render(context! {
            user => user,
            candidates => candidates,
        })
    }
}

fn log_template_error(name: &str, e: &minijinja::Error) {
    eprintln!("ws-server apps: template {name} does not compile: {e}");
}

/// A static file: its content type and bytes, by URL path.
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    const HTML: &str = "text/html; charset=utf-8";
    const JS: &str = "text/javascript; charset=utf-8";
    let found: (&str, &str) = match path {
        "/" => (HTML, include_str!("../assets/index.html")),
        "/echo" => (HTML, include_str!("../assets/echo.html")),
        "/chat" => (HTML, include_str!("../assets/chat.html")),
        "/static/style.css" => (
            "text/css; charset=utf-8",
            include_str!("../assets/style.css"),
        ),
        "/static/echo.js" => (JS, include_str!("../assets/echo.js")),
        "/static/chat.js" => (JS, include_str!("../assets/chat.js")),
        "/static/vote.js" => (JS, include_str!("../assets/vote.js")),
        // Browsers ask for /favicon.ico whatever the page links; both are the one SVG icon.
        "/favicon.ico" | "/static/favicon.svg" => {
            ("image/svg+xml", include_str!("../assets/favicon.svg"))
        }
        _ => return None,
    };
    Some((found.0, found.1.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_page_escapes_names_and_shows_counts() {
        let p = Pages::new();
        let html = p
            .vote(
                "<b>eve</b>",
                &[CandidateView {
                    id: 1,
                    name: "小明<script>".into(),
                    count: 42,
                    mine: true,
                }],
            )
            .unwrap();
        assert!(
            html.contains("&lt;b&gt;eve&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;eve&lt;/b&gt;")
        );
        assert!(!html.contains("<b>eve"));
        assert!(html.contains("小明&lt;script&gt;"));
        assert!(html.contains(r#"<span class="count" id="count-1">42</span>"#));
        assert!(html.contains(r#"class="mine""#));
    }

    #[test]
    fn login_page_renders_error_escaped() {
        let html = Pages::new().login(Some("bad <name>"), "\"x").unwrap();
        assert!(html.contains("bad &lt;name&gt;"));
        assert!(!html.contains("value=\"\"x\""));
        assert!(html.contains(r#"action="/login""#));
    }

    #[test]
    fn assets_exist() {
        for p in [
            "/",
            "/echo",
            "/chat",
            "/static/style.css",
            "/static/chat.js",
        ] {
            assert!(asset(p).is_some(), "{p}");
        }
        assert!(asset("/nope").is_none());
    }
}
