//! AWS Signature Version 4: the one parser of the `Authorization` header (used in both auth
//! modes, so the scope a request acts in is always the credential that was checked) and the
//! verifier for `auth_mode = sigv4`. The signature is recomputed over exactly the headers the
//! client listed in `SignedHeaders`, so any client that signs correctly passes and any change
//! to a signed header, the body or the key fails. Errors use AWS's names, statuses and texts.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, Uri};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// How far a request's `X-Amz-Date` may be from the server clock.
const MAX_SKEW: Duration = Duration::minutes(5);
const AMZ_DATE: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// SigV4's unreserved characters stay as they are; everything else is percent-encoded.
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A configured credential: the secret, the session token requests must carry if any, and
/// the account the key belongs to (an AWS access key belongs to exactly one account).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub account: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<redacted>, account {})", self.account)
    }
}

/// Access key id → credential.
pub type Keys = HashMap<String, Secret>;

/// Why a request is refused; `http` turns each into AWS's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// 403 MissingAuthenticationTokenException.
    Missing,
    /// 400 IncompleteSignatureException.
    Incomplete(String),
    /// 400 IncompleteSignatureException: a component given twice. Refused in both auth
    /// modes, so it is told apart from the other malformations.
    Repeated(String),
    /// 403 UnrecognizedClientException.
    UnknownKey,
    /// 403 InvalidSignatureException.
    BadSignature(String),
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
/// header. Each component appears exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub access_key: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `SignedHeaders` as sent: names joined by `;`.
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

/// Parses an `Authorization` header value. A component given twice is refused: a parser that
/// kept the first and a verifier that kept the last would let one valid key act as another.
pub fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthError> {
    let incomplete = |what: &str| {
        AuthError::Incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={value}"
        ))
    };
    let Some(rest) = value.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(AuthError::Incomplete(format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={value}"
        )));
    };
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        let (name, slot) = if let Some(v) = part.strip_prefix("Credential=") {
            ("Credential", (&mut credential, v))
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            ("SignedHeaders", (&mut signed, v))
        } else if let Some(v) = part.strip_prefix("Signature=") {
            ("Signature", (&mut signature, v))
        } else {
            continue;
        };
        let (slot, v) = slot;
        if slot.replace(v).is_some() {
            return Err(AuthError::Repeated(format!(
                "Authorization header has a repeated '{name}' parameter. Authorization={value}"
            )));
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential"))?;
    let signed = signed.ok_or_else(|| incomplete("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| incomplete("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" || scope.iter().any(|s| s.is_empty()) {
        return Err(AuthError::Incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.get(2).copied().unwrap_or("")
        )));
    }
    Ok(Authorization {
        access_key: scope[0],
        date: scope[1],
        region: scope[2],
        service: scope[3],
        signed_headers: signed,
        signature,
    })
}

/// The `Authorization` header of a request, parsed; `Ok(None)` when there is none.
pub fn authorization(headers: &HeaderMap) -> Result<Option<Authorization<'_>>, AuthError> {
    let Some(value) = headers.get("authorization") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Incomplete("Authorization header is not ASCII".into()))?;
    parse_authorization(value).map(Some)
}

/// Who a verified request comes from: the key's own account and the signed region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub account: String,
    pub region: String,
}

/// Verifies a request's SigV4 signature against the configured keys at time `now`.
pub fn verify(
    keys: &Keys,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    let auth = authorization(headers)?.ok_or(AuthError::Missing)?;
    let secret = keys.get(auth.access_key).ok_or(AuthError::UnknownKey)?;
    if let Some(token) = &secret.session_token {
        let sent = headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok());
        if sent != Some(token.as_str()) {
            return Err(AuthError::UnknownKey);
        }
    }
    let raw = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AuthError::Incomplete(format!("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={raw}")))?;
    check_date(&auth, amz_date, now)?;
    let string_to_sign = string_to_sign(&auth, method, uri, headers, body, amz_date)?;
    let mismatch = || {
        AuthError::BadSignature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into(),
        )
    };
    let sent = hex::decode(auth.signature).map_err(|_| mismatch())?;
    let mut mac = signing_mac(&auth, secret);
    mac.update(string_to_sign.as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&sent).map_err(|_| mismatch())?;
    Ok(Verified {
        account: secret.account.clone(),
        region: auth.region.to_owned(),
    })
}

fn check_date(
    auth: &Authorization<'_>,
    amz_date: &str,
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    let signed_at = PrimitiveDateTime::parse(amz_date, AMZ_DATE)
        .map_err(|_| {
            AuthError::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            ))
        })?
        .assume_utc();
    let fmt = |t: OffsetDateTime| t.format(AMZ_DATE).unwrap_or_default();
    if signed_at < now - MAX_SKEW {
        return Err(AuthError::BadSignature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
            fmt(now - MAX_SKEW),
            fmt(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(AuthError::BadSignature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
            fmt(now + MAX_SKEW),
            fmt(now)
        )));
    }
    if !amz_date.starts_with(auth.date) {
        return Err(AuthError::BadSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    Ok(())
}

fn string_to_sign(
    auth: &Authorization<'_>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    amz_date: &str,
) -> Result<String, AuthError> {
    let mut canonical_headers = String::new();
    for name in auth.signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return Err(AuthError::BadSignature(format!(
                "'{name}' is listed in SignedHeaders but is not in the request"
            )));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        canonical_uri(uri.path()),
        canonical_query(uri.query().unwrap_or("")),
        canonical_headers,
        auth.signed_headers,
        hex::encode(Sha256::digest(body)),
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    Ok(format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    ))
}

/// The HMAC keyed with the request's derived signing key.
fn signing_mac(auth: &Authorization<'_>, secret: &Secret) -> Hmac<Sha256> {
    let k_date = hmac(
        format!("AWS4{}", secret.secret_access_key).as_bytes(),
        auth.date.as_bytes(),
    );
    let k_region = hmac(&k_date, auth.region.as_bytes());
    let k_service = hmac(&k_region, auth.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    <Hmac<Sha256> as KeyInit>::new_from_slice(&k_signing).expect("HMAC takes any key length")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Header values are trimmed and runs of spaces collapse to one.
fn collapse_spaces(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes then re-encodes, so a client that sent `%7E` or `~` signs the same text.
fn normalize(s: &str) -> String {
    let decoded = percent_decode_str(s).decode_utf8_lossy();
    utf8_percent_encode(&decoded, SIGV4_ENCODE).to_string()
}

/// Each path segment URI-encoded (SigV4 encodes the path once for non-S3 services).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/').map(normalize).collect::<Vec<_>>().join("/")
}

/// Query parameters sorted by name then value, each encoded.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (normalize(k), normalize(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from([(
            "AKIDEXAMPLE".to_string(),
            Secret {
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
                session_token: None,
                account: "111122223333".into(),
            },
        )])
    }

    /// The "get-vanilla" case of AWS's published SigV4 test suite.
    #[test]
    fn aws_test_suite_get_vanilla_verifies() {
        let mut h = HeaderMap::new();
        h.insert("host", "example.amazonaws.com".parse().unwrap());
        h.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .parse()
                .unwrap(),
        );
        let now = OffsetDateTime::from_unix_timestamp(1_440_938_160).unwrap();
        assert_eq!(
            verify(&keys(), &Method::GET, &"/".parse().unwrap(), &h, b"", now),
            Ok(Verified {
                account: "111122223333".into(),
                region: "us-east-1".into()
            })
        );
        h.insert("host", "other.amazonaws.com".parse().unwrap());
        assert!(matches!(
            verify(&keys(), &Method::GET, &"/".parse().unwrap(), &h, b"", now),
            Err(AuthError::BadSignature(_))
        ));
    }

    #[test]
    fn malformed_authorization_is_incomplete() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let r = verify(
            &keys(),
            &Method::POST,
            &"/".parse().unwrap(),
            &h,
            b"",
            OffsetDateTime::now_utc(),
        );
        assert!(
            matches!(r, Err(AuthError::Incomplete(m)) if m.starts_with("Authorization header requires 'Credential' parameter."))
        );
    }

    #[test]
    fn a_repeated_component_is_refused_whatever_its_position() {
        for header in [
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, Credential=999999999999/20150830/eu-west-1/states/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, SignedHeaders=host, SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00, Signature=11",
        ] {
            assert!(
                matches!(parse_authorization(header), Err(AuthError::Repeated(m)) if m.contains("repeated")),
                "{header}"
            );
        }
    }
}
