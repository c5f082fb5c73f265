//! Login sessions: an HMAC-SHA256 signed cookie naming the user, the session id and the expiry.
//!
//! The signature proves the server issued the cookie; the session id is also kept in the database so a
//! logout revokes it before it expires.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The cookie's name.
pub const COOKIE_NAME: &str = "ws_session";
/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "session.key";

/// The secret that signs session cookies (32 random bytes).
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// A key from configuration: any secret string, stretched to 32 bytes with SHA-256.
    pub fn from_secret(secret: &str) -> SessionKey {
        use sha2::Digest;
        SessionKey(Sha256::digest(secret.as_bytes()).into())
    }

    /// Reads `<dir>/session.key`, or creates it once (random, mode 0600) if it does not exist.
    pub fn load_or_create(dir: &Path) -> io::Result<SessionKey> {
        let path = dir.join(KEY_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{} must hold exactly 32 bytes", path.display()),
                    )
                })?;
                Ok(SessionKey(key))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key: [u8; 32] = random_bytes()?;
                write_private(&path, &key)?;
                Ok(SessionKey(key))
            }
            Err(e) => Err(e),
        }
    }

    /// A tag for `data` used as `purpose` (base64url HMAC-SHA256 of `purpose`, NUL, `data`):
    /// tokens of one purpose are never valid for another.
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes())
    }

    /// Whether `tag` is [`SessionKey::sign`] of `data` for `purpose` (compared in constant time).
    pub fn verify(&self, purpose: &str, data: &str, tag: &str) -> bool {
        let Ok(tag) = Base64UrlUnpadded::decode_vec(tag) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        mac.verify_slice(&tag).is_ok()
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        match HmacSha256::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes any key length"),
        }
    }
}

/// Writes a new file readable only by its owner (fails if it already exists).
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(format!("getrandom: {e}")))?;
    Ok(b)
}

/// A random UUID version 4 in its usual text form.
pub fn uuid_v4() -> io::Result<String> {
    let mut b: [u8; 16] = random_bytes()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// A logged-in user's session, as carried by the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Random session id (revocable in the database).
    pub sid: String,
    /// The user's name as typed at login.
    pub user: String,
    /// Expiry, milliseconds since the Unix epoch.
    pub expires_ms: i64,
}

impl Session {
    /// The cookie value: `sid.expiry.base64url(user).base64url(hmac)`.
    pub fn to_cookie(&self, key: &SessionKey) -> String {
        let body = format!(
            "{}.{}.{}",
            self.sid,
            self.expires_ms,
            Base64UrlUnpadded::encode_string(self.user.as_bytes())
        );
        let mut mac = key.mac();
        mac.update(body.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{body}.{}", Base64UrlUnpadded::encode_string(&tag))
    }

    /// Parses and checks a cookie value: a valid signature and not expired at `now_ms`.
    pub fn from_cookie(value: &str, key: &SessionKey, now_ms: i64) -> Option<Session> {
        let (body, tag) = value.rsplit_once('.')?;
        let tag = Base64UrlUnpadded::decode_vec(tag).ok()?;
        let mut mac = key.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).ok()?;
        let mut parts = body.splitn(3, '.');
        let sid = parts.next()?.to_owned();
        let expires_ms: i64 = parts.next()?.parse().ok()?;
        let user = Base64UrlUnpadded::decode_vec(parts.next()?).ok()?;
        let user = String::from_utf8(user).ok()?;
        (expires_ms > now_ms).then_some(Session {
            sid,
            user,
            expires_ms,
        })
    }
}

/// The `Set-Cookie` value that stores `cookie` for `max_age_s` seconds.
///
/// `secure`: the page was served over https (a public origin `https://...`, e.g. behind a TLS
/// proxy); the browser then sends the cookie over https only.
pub fn set_cookie_header(cookie: &str, max_age_s: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}")
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn clear_cookie_header(secure: bool) -> String {
    set_cookie_header("", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Session {
        Session {
            sid: "abc".into(),
            user: "小明 <x>.y".into(),
            expires_ms: 1_000,
        }
    }

    #[test]
    fn roundtrip_and_expiry() {
        let k = SessionKey::from_secret("k");
        let c = sample().to_cookie(&k);
        assert_eq!(Session::from_cookie(&c, &k, 999), Some(sample()));
        assert_eq!(Session::from_cookie(&c, &k, 1_000), None);
    }

    #[test]
    fn tampering_and_other_keys_are_rejected() {
        let k = SessionKey::from_secret("k");
        let c = sample().to_cookie(&k);
        assert_eq!(
            Session::from_cookie(&c, &SessionKey::from_secret("j"), 0),
            None
        );
        let forged = c.replacen("1000", "9999", 1);
        assert_ne!(forged, c);
        assert_eq!(Session::from_cookie(&forged, &k, 0), None);
        assert_eq!(Session::from_cookie("garbage", &k, 0), None);
        assert_eq!(Session::from_cookie("", &k, 0), None);
    }

    #[test]
    fn key_file_is_created_once_private() {
        let dir = std::env::temp_dir().join(format!("ws-key-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = SessionKey::load_or_create(&dir).unwrap();
        let b = SessionKey::load_or_create(&dir).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uuid_has_version_4_shape() {
        let u = uuid_v4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, uuid_v4().unwrap());
    }

    #[test]
    fn signed_tokens_verify_only_for_their_data_and_purpose() {
        let k = SessionKey::from_secret("s");
        let tag = k.sign("chat-member", "uid-1");
        assert!(k.verify("chat-member", "uid-1", &tag));
        assert!(!k.verify("chat-member", "uid-2", &tag));
        assert!(!k.verify("other", "uid-1", &tag));
        assert!(!SessionKey::from_secret("t").verify("chat-member", "uid-1", &tag));
        assert!(!k.verify("chat-member", "uid-1", "not base64!"));
    }
}
