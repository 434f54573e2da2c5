//! A load this instance holds in the shared tier, let go of when dropped before it ends.

use redis::Script;

use crate::shared_tier::SharedTier;

/// A load held in the tier by this instance (see `SharedAnswers::hold_of`).
pub(super) struct Hold {
    tier: SharedTier,
    release: Script,
    key: String,
    field: String,
    op: &'static str,
    armed: bool,
}

impl Hold {
    /// The hold of the answer at `field` of the hash at `key`, let go of by `release` (the
    /// shared tier's script) under `op`'s name.
    pub(super) fn new(
        (tier, release): (SharedTier, Script),
        key: String,
        field: String,
        op: &'static str,
    ) -> Self {
        Self {
            tier,
            release,
            key,
            field,
            op,
            armed: true,
        }
    }

    /// The load ended (its answer put, or its failure released): nothing is left to let go.
    pub(super) fn ended(mut self) {
        self.armed = false;
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (tier, release) = (self.tier.clone(), self.release.clone());
        let (key, field, op) = (
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.field),
            self.op,
        );
        drop(runtime.spawn(async move {
            let mut invocation = release.prepare_invoke();
            invocation.key(key).arg(field);
            let _: Option<i64> = tier.run(op, &invocation).await;
        }));
    }
}
