//! Encryption at rest. `MOMENTUM_SECRET_KEY` (32 bytes, base64) is the master
//! key; it only wraps each organisation's own random keys, bound to the
//! organisation's id: a data key, which encrypts tokens, private notes and
//! starting points (XChaCha20-Poly1305, random nonces), and a hash key for
//! keyed hashes (HMAC-SHA256), kept apart so that the data can be re-keyed
//! while the hashes still match.

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

    /// `key` (one of organisation `org`'s keys) wrapped by this master key,
    /// bound to the organisation and the key's purpose: it opens nowhere else.
    pub fn wrap_org_key(&self, key: &SecretKey, purpose: KeyPurpose, org: i64) -> Vec<u8> {
        self.seal(key.0.as_slice(), &purpose.context(org))
    }

    pub fn unwrap_org_key(
        &self,
        wrapped: &[u8],
        purpose: KeyPurpose,
        org: i64,
    ) -> Result<SecretKey, CryptoError> {
        Self::from_bytes(&self.open(wrapped, &purpose.context(org))?)
    }

    /// A data key wrapped before keys were bound to their organisation
    /// (opened once, to be bound).
    pub fn unwrap_unbound_data_key(&self, wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
        Self::from_bytes(&self.open(wrapped, UNBOUND_DATA_KEY)?)
    }

    /// How data keys were wrapped before they were bound (for tests of the upgrade).
    pub fn wrap_unbound_data_key(&self, key: &SecretKey) -> Vec<u8> {
        self.seal(key.0.as_slice(), UNBOUND_DATA_KEY)
    }

    fn from_bytes(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::Open);
        }
        Ok(Self(*Key::from_slice(bytes)))
    }

    /// True when both are the same key (without showing either).
    pub fn same_as(&self, other: &SecretKey) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

/// The additional data data keys were wrapped with before binding.
const UNBOUND_DATA_KEY: &str = "org-data-key";

/// What an organisation's key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Seals notes, starting points and tokens.
    Data,
    /// Keyed hashes of erased people's identities.
    Hash,
}

impl KeyPurpose {
    fn context(self, org: i64) -> String {
        match self {
            KeyPurpose::Data => format!("org-data-key:{org}"),
            KeyPurpose::Hash => format!("org-hash-key:{org}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_keys_open_only_for_their_organisation_purpose_and_master_key() {
        let master = SecretKey::generate();
        let key = SecretKey::generate();
        let wrapped = master.wrap_org_key(&key, KeyPurpose::Data, 7);
        let data = master
            .unwrap_org_key(&wrapped, KeyPurpose::Data, 7)
            .unwrap();
        assert!(data.same_as(&key));
        let blob = data.seal(b"private note", "notes.body");
        assert_eq!(data.open(&blob, "notes.body").unwrap(), b"private note");
        assert!(data.open(&blob, "other.column").is_err());
        // Another organisation's row, another purpose, another master key.
        assert!(master
            .unwrap_org_key(&wrapped, KeyPurpose::Data, 8)
            .is_err());
        assert!(master
            .unwrap_org_key(&wrapped, KeyPurpose::Hash, 7)
            .is_err());
        assert!(master.unwrap_unbound_data_key(&wrapped).is_err());
        assert!(SecretKey::generate()
            .unwrap_org_key(&wrapped, KeyPurpose::Data, 7)
            .is_err());
        // A key wrapped before binding opens only as such.
        let unbound = master.wrap_unbound_data_key(&key);
        assert!(master
            .unwrap_unbound_data_key(&unbound)
            .unwrap()
            .same_as(&key));
        assert!(master
            .unwrap_org_key(&unbound, KeyPurpose::Data, 7)
            .is_err());
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
