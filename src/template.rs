//! TEMPORARY
pub struct Template(String);
impl Template {
    pub fn parse(t: &str) -> Result<Template, String> {
        Ok(Template(t.to_string()))
    }
    pub fn render(&self, _v: &serde_json::Value) -> Result<String, String> {
        Ok(self.0.clone())
    }
    pub fn check(_t: &str, _s: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
}
