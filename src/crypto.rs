//! Encryption at rest. `MOMENTUM_SECRET_KEY` (32 bytes, base64) is the master
//! key; it only wraps each organisation's own random data key, which in turn
//! encrypts tokens and private notes (XChaCha20-Poly1305, random nonces).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::fmt;

const NONCE_LEN: usize = 24;
/// First byte of every sealed blob: the format version, for later key rotation.
const FORMAT_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("MOMENTUM_SECRET_KEY is not valid base64")]
    NotBase64,
    #[error("MOMENTUM_SECRET_KEY must decode to exactly 32 bytes, it decodes to {0}")]
    WrongLength(usize),
    #[error("encrypted data could not be decrypted: wrong key or damaged data")]
    Open,
}

/// A 256-bit key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SecretKey(Key);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    pub fn from_base64(s: &str) -> Result<Self, CryptoError> {
        let bytes = B64.decode(s.trim()).map_err(|_| CryptoError::NotBase64)?;
        if bytes.len() != 32 {
            return Err(CryptoError::WrongLength(bytes.len()));
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0.as_slice())
    }

    /// Encrypts `plain`, bound to `context` (e.g. "org-data-key" or a table
    /// and column), so a blob cannot be moved to another place and still open.
    pub fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&self.0);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, blob: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
        if blob.len() < 1 + NONCE_LEN || blob[0] != FORMAT_V1 {
            return Err(CryptoError::Open);
        }
        let nonce = XNonce::from_slice(&blob[1..1 + NONCE_LEN]);
        XChaCha20Poly1305::new(&self.0)
            .decrypt(
                nonce,
                Payload {
                    msg: &blob[1 + NONCE_LEN..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Open)
    }

    /// A keyed hash (HMAC-SHA256, hex) of `value`: the same person gives the
    /// same hash under the same key, and nobody without the key can test a guess.
    pub fn keyed_hash(&self, value: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes a key of any length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A fresh organisation data key, wrapped by this (master) key.
    pub fn new_wrapped_data_key(&self) -> Vec<u8> {
        let data_key = Self::generate();
        self.seal(data_key.0.as_slice(), "org-data-key")
    }

    /// A data key wrapped by this master key, wrapped by `new` instead.
    pub fn rewrap_data_key(&self, wrapped: &[u8], new: &SecretKey) -> Result<Vec<u8>, CryptoError> {
        let data_key = self.unwrap_data_key(wrapped)?;
        Ok(new.seal(data_key.0.as_slice(), "org-data-key"))
    }

    pub fn unwrap_data_key(&self, wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
        let bytes = self.open(wrapped, "org-data-key")?;
        if bytes.len() != 32 {
            return Err(CryptoError::Open);
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_data_keys_round_trip_and_need_the_master_key() {
        let master = SecretKey::generate();
        let wrapped = master.new_wrapped_data_key();
        let data = master.unwrap_data_key(&wrapped).unwrap();
        let blob = data.seal(b"private note", "notes.body");
        assert_eq!(data.open(&blob, "notes.body").unwrap(), b"private note");
        assert!(data.open(&blob, "other.column").is_err());
        assert!(SecretKey::generate().unwrap_data_key(&wrapped).is_err());
    }

    #[test]
    fn bad_master_keys_are_named() {
        assert!(matches!(
            SecretKey::from_base64("***"),
            Err(CryptoError::NotBase64)
        ));
        assert!(matches!(
            SecretKey::from_base64("AAAA"),
            Err(CryptoError::WrongLength(3))
        ));
        assert!(format!("{:?}", SecretKey::generate()).contains('…'));
    }
}
