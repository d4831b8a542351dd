//! One field of an `application/x-www-form-urlencoded` body, decoded in a
//! single pass. Slack sends every interaction as one field, `payload=`,
//! holding a few kilobytes of percent-encoded JSON: decoding it is most of
//! a tap's parsing, so it is done once, straight into the string that is
//! parsed next (the general decoder copies it three times: pluses, escapes,
//! then a UTF-8 check over a fresh copy).

/// The decoded value of the first field named `name`; `None` if there is
/// none. Bytes that are not UTF-8 after decoding become U+FFFD, as with
/// any form decoder.
pub(super) fn field(body: &[u8], name: &str) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let (key, value) = match memchr::memchr(b'=', pair) {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let same = if memchr::memchr2(b'%', b'+', key).is_some() {
            decode(key) == name
        } else {
            key == name.as_bytes()
        };
        same.then(|| decode(value))
    })
}

/// `+` is a space and `%XX` a byte; a `%` not followed by two hex digits
/// stands for itself.
fn decode(encoded: &[u8]) -> String {
    let mut out = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(i) = memchr::memchr2(b'%', b'+', rest) {
        out.extend_from_slice(&rest[..i]);
        let escaped = match (rest[i], rest.get(i + 1..i + 3)) {
            (b'+', _) => Some((b' ', 1)),
            (_, Some(&[hi, lo])) => hex(hi).zip(hex(lo)).map(|(h, l)| (h << 4 | l, 3)),
            _ => None,
        };
        let (byte, used) = escaped.unwrap_or((b'%', 1));
        out.push(byte);
        rest = &rest[i + used..];
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::field;

    /// What the general decoder makes of the same body.
    fn general(body: &[u8], name: &str) -> Option<String> {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn decodes_like_the_general_decoder() {
        let bodies: [&[u8]; 12] = [
            b"payload=%7B%22type%22%3A%22block_actions%22%7D",
            b"token=x&payload=a+b%2Bc",
            b"pay%6Coad=moved&payload=second",
            b"payload=%zz%4",
            b"payload=100%",
            b"payload=%C3%A9t%C3%A9",
            b"payload=%FF%FEbad",
            b"payload",
            b"payload=",
            b"other=1",
            b"",
            b"a=1&&payload=x=y&payload=z",
        ];
        for body in bodies {
            assert_eq!(
                field(body, "payload"),
                general(body, "payload"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn decodes_every_byte_escaped() {
        let text: String = (' '..='~').chain("žluťoučký kůň".chars()).collect();
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &text)
            .finish();
        assert_eq!(field(body.as_bytes(), "payload").as_deref(), Some(&*text));
    }
}
