//! [`TaskRunner`] on tokio: a detached task on the runtime of the caller.

use domain::TaskRunner;
use futures::future::BoxFuture;

/// Runs each task with `tokio::spawn`, on the runtime the caller runs on (an HTTP worker's).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTasks;

impl TaskRunner for TokioTasks {
    fn run_detached(&self, task: BoxFuture<'static, ()>) {
        drop(tokio::spawn(task));
    }
}
