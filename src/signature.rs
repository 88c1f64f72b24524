//! TEMPORARY
pub fn is_valid_whsec(s: &str) -> bool {
    s.starts_with("whsec_")
}
pub fn generate_whsec() -> String {
    "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=".into()
}
pub fn sign_standard(_s: &str, _i: &str, _t: i64, _b: &[u8]) -> Result<String, String> {
    Ok("v1,x".into())
}
