//! `rotate-secret`: a new secret for a hook without a flag day. The replaced secret stays
//! valid for the overlap: incoming calls signed with it still verify, outgoing deliveries are
//! signed with both (`webhook-signature: v1,<new> v1,<old>`), so every receiver can move at its
//! own pace. A hook keeps at most two: rotating again during an overlap drops the oldest.

use super::hooks::modify;
use crate::daemon::state::Shared;
use crate::proto::{ErrorBody, HookKind, Response, RotateSecret, Secret};
use crate::store::AdminAction;
use std::sync::Arc;

/// The longest overlap accepted.
const MAX_OVERLAP_MS: i64 = 90 * 24 * 3600 * 1000;

pub(super) async fn rotate(
    shared: &Arc<Shared>,
    req: RotateSecret,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    if !(0..=MAX_OVERLAP_MS).contains(&req.overlap_ms) {
        return Err(ErrorBody::invalid("--overlap: use at most 90 days"));
    }
    let generated = req.secret.is_none().then(crate::signature::generate_whsec);
    let until = crate::time::now_ms() + req.overlap_ms;
    let ctx = shared.context();
    let h = modify(shared, req.name.clone(), uid, |h| {
        let new = match (&req.secret, &generated, h.kind) {
            (Some(s), _, _) => s.clone(),
            (None, Some(g), HookKind::Outgoing) => Secret(g.clone()),
            (None, _, _) => {
                return Err(
                    "rotate-secret on an incoming hook needs --secret NEW (the sender \
                            chooses incoming secrets)"
                        .into(),
                );
            }
        };
        let Some(old) = h.options.secret.clone() else {
            return Err(format!(
                "{} has no secret to rotate; set one with hookctl edit --secret",
                h.name
            ));
        };
        let mut o = h.options.clone();
        o.secret = Some(new);
        o.rotated_secret = Some(old);
        o.rotated_until = Some(until);
        crate::hook::validate(h.kind, &o, ctx)?;
        h.options = o;
        Ok(Some(AdminAction::RotateSecret))
    })
    .await?;
    Ok(Response::Rotated {
        name: h.name,
        secret: req.secret.is_none().then_some(generated).flatten(),
        old_valid_until: crate::time::rfc3339(until),
    })
}
