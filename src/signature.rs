//! TEMPORARY
pub fn is_valid_whsec(s: &str) -> bool {
    s.starts_with("whsec_")
}
pub fn generate_whsec() -> String {
    "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=".into()
}
