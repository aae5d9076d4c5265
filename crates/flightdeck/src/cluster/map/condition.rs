//! A status condition, as every kind writes them: its type, status and reason
//! interned (a few words, held by every object), its message shared.

use crate::model::{Condition, interned, shared_message};

use super::fields::{Field, MapError};

/// The condition at `c`, its time read from `since` (`lastTransitionTime` for
/// most kinds, `lastUpdateTime` for a Deployment's progress).
pub fn map_condition(c: Field<'_, '_>, since: &str) -> Result<Condition, MapError> {
    Ok(Condition {
        kind: interned(&c.at(&["type"], |f| f.string())?),
        status: interned(&c.at(&["status"], |f| f.string())?),
        reason: interned(&c.at(&["reason"], |f| f.string())?),
        message: shared_message(c.at(&["message"], |f| f.str())?.unwrap_or_default()),
        since: c.at(&[since], |f| f.time())?.into(),
    })
}
