//! Cookies, read and written through the `cookie` crate: the console's
//! session, the sign-in nonce and the install state. All are HttpOnly.

use axum::http::{header, HeaderMap};
use cookie::{Cookie, SameSite};

/// The value of cookie `name` in a request, if it was sent.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, on `path`, for `max_age` seconds (0
/// clears it), Secure when people come over https.
pub fn set(
    name: &str,
    value: &str,
    path: &str,
    same_site: SameSite,
    max_age: i64,
    secure: bool,
) -> String {
    Cookie::build((name.to_string(), value.to_string()))
        .path(path.to_string())
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age))
        .secure(secure)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_set_with_its_attributes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; momentum_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(read(&headers, "momentum_session").as_deref(), Some("abc"));
        assert_eq!(read(&headers, "missing"), None);
        let set = set("s", "v", "/admin", SameSite::Strict, 600, true);
        for part in [
            "s=v",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/admin",
            "Max-Age=600",
        ] {
            assert!(set.contains(part), "{part} in {set}");
        }
        assert!(!super::set("s", "", "/", SameSite::Lax, 0, false).contains("Secure"));
    }
}
