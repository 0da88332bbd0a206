//! Deterministic identifiers.
//!
//! The same scenario always yields the same ARNs, serial numbers, validation
//! records and organization id, so reports and snapshots taken against the
//! simulator are stable. No randomness and no `std` hasher (whose algorithm may
//! change between Rust releases): FNV-1a with a splitmix64 finaliser.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Hashes `parts` under `seed`. Parts are separated by a byte that never occurs in
/// UTF-8 text, so `["ab", "c"]` and `["a", "bc"]` differ.
pub fn hash64(seed: u64, parts: &[&str]) -> u64 {
    let mut h = FNV_OFFSET ^ seed.wrapping_mul(FNV_PRIME);
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    splitmix(h)
}

fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `len` lowercase hex digits derived from `parts`.
pub fn hex(parts: &[&str], len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut seed = 0u64;
    while out.len() < len {
        out.push_str(&format!("{:016x}", hash64(seed, parts)));
        seed += 1;
    }
    out.truncate(len);
    out
}

/// `len` characters from `alphabet` derived from `parts`.
pub fn chars(parts: &[&str], len: usize, alphabet: &[u8]) -> String {
    let base = alphabet.len() as u64;
    let mut out = String::with_capacity(len);
    let mut seed = 1000u64;
    let mut h = hash64(seed, parts);
    let mut left = 64u32;
    while out.len() < len {
        // Reseed before the value runs out of entropy; modulo bias is irrelevant here.
        if left < 8 {
            seed += 1;
            h = hash64(seed, parts);
            left = 64;
        }
        out.push(char::from(alphabet[(h % base) as usize]));
        h /= base;
        left -= 6;
    }
    out
}

pub const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// 32 hex digits in the 8-4-4-4-12 layout of a UUID.
fn uuid_layout(h: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The UUID-shaped id ACM puts at the end of a certificate ARN.
pub fn certificate_id(account: &str, region: &str, index: usize) -> String {
    let index = index.to_string();
    let h = hex(&["certificate", account, region, &index], 32);
    uuid_layout(&h)
}

/// `o-` followed by ten characters, like a real organization id.
pub fn organization_id(management_account: &str) -> String {
    format!(
        "o-{}",
        chars(&["organization", management_account], 10, LOWER_ALNUM)
    )
}

/// `r-` followed by four characters, like a real root id.
pub fn root_id(organization: &str) -> String {
    format!("r-{}", chars(&["root", organization], 4, LOWER_ALNUM))
}

/// A certificate serial number in ACM's `0a:1b:…` notation (16 bytes).
pub fn serial(arn: &str) -> String {
    let h = hex(&["serial", arn], 32);
    let bytes: Vec<&str> = (0..16).map(|i| &h[i * 2..i * 2 + 2]).collect();
    bytes.join(":")
}

/// The validation token of a domain in an account. ACM derives one per account and
/// base domain, so `example.com` and `*.example.com` share one CNAME (and one HTTP
/// validation file).
pub fn validation_token(account: &str, domain: &str) -> String {
    hex(&["validation-name", account, base_domain(domain)], 32)
}

/// The DNS validation CNAME of a domain in an account: (Name, Value).
pub fn validation_record(account: &str, domain: &str) -> (String, String) {
    let base = base_domain(domain);
    let token = validation_token(account, domain);
    let target = hex(&["validation-target", account, base], 32);
    let label = chars(&["validation-label", account, base], 10, LOWER);
    (
        format!("_{token}.{base}."),
        format!("_{target}.{label}.acm-validations.aws."),
    )
}

/// Another value for the validation CNAME at `name`, shaped like ACM's: what a record left
/// behind by an older request of the same domain points to.
pub fn stale_validation_target(name: &str) -> String {
    let target = hex(&["validation-target-old", name], 32);
    let label = chars(&["validation-label-old", name], 10, LOWER);
    format!("_{target}.{label}.acm-validations.aws.")
}

/// The domain without a leading `*.` wildcard label.
pub fn base_domain(domain: &str) -> &str {
    domain.strip_prefix("*.").unwrap_or(domain)
}

/// A 20-character access key id, `prefix` plus 16 characters from `parts`.
pub fn access_key_id(prefix: &str, parts: &[&str]) -> String {
    format!("{prefix}{}", chars(parts, 16, UPPER_ALNUM))
}

/// A request id in the UUID layout AWS uses in `x-amzn-RequestId`.
pub fn request_id(counter: u64) -> String {
    let counter = counter.to_string();
    let h = hex(&["request", &counter], 32);
    uuid_layout(&h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_distinct() {
        let a = certificate_id("111122223333", "us-east-1", 0);
        assert_eq!(a, certificate_id("111122223333", "us-east-1", 0));
        assert_ne!(a, certificate_id("111122223333", "us-east-1", 1));
        assert_ne!(a, certificate_id("111122223333", "eu-west-1", 0));
        assert_eq!(a.len(), 36);
        assert_ne!(hash64(0, &["ab", "c"]), hash64(0, &["a", "bc"]));
    }

    #[test]
    fn shapes() {
        let org = organization_id("111122223333");
        assert_eq!(org.len(), 12);
        assert!(org[2..].bytes().all(|b| LOWER_ALNUM.contains(&b)));
        assert_eq!(serial("x").len(), 47);
        assert_eq!(
            validation_record("111122223333", "*.example.com"),
            validation_record("111122223333", "example.com")
        );
        assert_ne!(
            validation_token("111122223333", "example.com"),
            validation_token("444455556666", "example.com")
        );
        let key = access_key_id("ASIA", &["k"]);
        assert_eq!(key.len(), 20);
        assert!(key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }
}
