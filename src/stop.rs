//! Why this exists: one run-wide "stop" that Ctrl-C, a refused token, a 403
//! or a broken results file can raise. Workers stop taking rows, waits are
//! cut short, requests already sent are allowed to finish. The first reason wins.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::error::StopReason;

#[derive(Clone)]
pub struct Stop {
    flag: Arc<watch::Sender<bool>>,
    reason: Arc<Mutex<Option<StopReason>>>,
    /// A second Ctrl-C: the caller drops the run and exits.
    quit: Arc<watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            flag: Arc::new(watch::channel(false).0),
            reason: Arc::new(Mutex::new(None)),
            quit: Arc::new(watch::channel(false).0),
        }
    }
}

impl Stop {
    /// Asks whoever awaits `quit_requested` to end the run now.
    pub fn quit_now(&self) {
        self.quit.send_replace(true);
    }

    /// Resolves on a second Ctrl-C.
    pub async fn quit_requested(&self) {
        let mut rx = self.quit.subscribe();
        let _ = rx.wait_for(|quit| *quit).await;
    }

    pub fn raise(&self, reason: StopReason) {
        let mut slot = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(reason);
        }
        self.flag.send_replace(true);
    }

    pub fn is_raised(&self) -> bool {
        *self.flag.borrow()
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Resolves once the stop is raised.
    pub async fn raised(&self) {
        let mut rx = self.flag.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|raised| *raised).await;
    }

    /// Sleeps, unless the stop is raised first (then `false`).
    pub async fn sleep(&self, wait: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = self.raised() => false,
        }
    }
}
