//! A child named through a registry (Elixir's `{:via, Registry, {registry,
//! key}}`): every incarnation registers itself as it starts, before its
//! init runs, and its entry goes when it ends.

use std::hash::Hash;
use std::sync::Arc;

use crate::child::{
    BoxFuture, ChildRef, ChildSpec, Incarnation, Spawned, Spawner, Start, StartChild,
};
use crate::exit::ExitReason;

use super::Registry;

impl ChildSpec {
    /// Names the child through `registry` under `key`, with `value`
    /// (Elixir's `name: {:via, Registry, {registry, key, value}}`): every
    /// incarnation registers itself as it starts, before its init runs,
    /// and its entry is gone when it ends, so that `key` finds whichever
    /// incarnation is running, across restarts. `value` is cloned for
    /// every start; a handle that follows restarts
    /// ([`WorkerHandle`](crate::WorkerHandle), a supervisor's
    /// [`SupervisorRef`](crate::SupervisorRef), a typed supervisor's
    /// handle) makes the name typed.
    ///
    /// In a unique registry, a start whose key is taken by a live entry
    /// fails (OTP's `{error, {already_started, Pid}}`): its exit reason is
    /// [`RegistryError::AlreadyRegistered`](crate::RegistryError) with the
    /// owner, and the init never runs. Works for workers, supervisors and
    /// the children of dynamic supervisors alike.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervise::{ChildSpec, Context, Exit, Registry, Reply, Supervisor, Worker, WorkerHandle};
    ///
    /// struct Counter;
    /// impl Worker for Counter {
    ///     type Message = Reply<u64>;
    ///     async fn run(self, mut ctx: Context<Reply<u64>>) -> Result<(), Exit> {
    ///         while let Some(reply) = ctx.recv().await {
    ///             let _ = reply.send(ctx.incarnation());
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let names: Registry<&'static str, WorkerHandle<Counter>> = Registry::unique();
    /// let (spec, handle) = ChildSpec::worker_with_handle("counter", || Counter);
    /// let app = Supervisor::builder("app")
    ///     .child(spec.via(&names, "counter", handle))
    ///     .build().unwrap().start().await.unwrap();
    ///
    /// let (first, counter) = names.whereis(&"counter").unwrap();
    /// assert_eq!(counter.call(|r| r).await.unwrap(), 1);
    ///
    /// // A crash: the name follows the new incarnation.
    /// first.kill();
    /// counter.wait_running(Duration::from_secs(1)).await.unwrap();
    /// let (second, counter) = names.whereis(&"counter").unwrap();
    /// assert_ne!(first, second);
    /// assert_eq!(counter.call(|r| r).await.unwrap(), 2);
    /// app.stop().await.unwrap();
    /// assert!(names.whereis(&"counter").is_none());
    /// # }
    /// ```
    pub fn via<K, V>(mut self, registry: &Registry<K, V>, key: K, value: V) -> Self
    where
        K: Eq + Hash + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        self.start = Arc::new(ViaStart {
            inner: self.start,
            registry: registry.clone(),
            key,
            value,
        });
        self
    }
}

/// A child's start that registers each incarnation first.
struct ViaStart<K, V> {
    inner: Arc<dyn StartChild>,
    registry: Registry<K, V>,
    key: K,
    value: V,
}

impl<K, V> StartChild for ViaStart<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        let child = ChildRef::from_inner(inc.clone());
        if let Err(taken) =
            self.registry
                .insert(child.clone(), self.key.clone(), self.value.clone())
        {
            let reason = ExitReason::error(taken);
            return Box::pin(async move { Start::Failed(reason) });
        }
        let start = self.inner.clone().start(inc, spawner);
        Box::pin(async move {
            // Unregistered at once unless it starts (an incarnation that
            // never started counts as ended anyway; this frees the key now).
            let registered = Registered {
                via: Some(&self),
                child: &child,
            };
            let outcome = start.await;
            if matches!(outcome, Start::Started(_)) {
                registered.keep();
            }
            outcome
        })
    }

    fn forget(&self) {
        self.inner.forget();
    }
}

/// Removes an incarnation's entry when dropped armed.
struct Registered<'a, K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    via: Option<&'a ViaStart<K, V>>,
    child: &'a ChildRef,
}

impl<K, V> Registered<'_, K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn keep(mut self) {
        self.via = None;
    }
}

impl<K, V> Drop for Registered<'_, K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        if let Some(via) = self.via {
            via.registry.remove_owned(&via.key, self.child);
        }
    }
}
