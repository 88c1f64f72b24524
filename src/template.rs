//! TEMPORARY
pub struct Template;
impl Template {
    pub fn check(_t: &str, _s: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
}
