//! Siblings wired by typed handles: a child built, at every start, from the
//! handles of siblings that start before it (`#[child(uses = [...])]`), in
//! the derive and in `supervision_tree!`. A child that only uses a sibling
//! is not restarted with it: the handle follows the sibling's restarts.

use std::time::Duration;

use supervise::{handlers, supervision_tree, worker, Supervisor, WorkerHandle};

#[worker]
#[derive(Clone)]
struct Pool {
    size: usize,
}

#[handlers]
impl Pool {
    #[call]
    fn size(&mut self) -> usize {
        self.size
    }
}

#[worker]
#[derive(Clone)]
struct Cache {
    pool: WorkerHandle<Pool>,
    hits: u64,
}

impl Cache {
    fn new(pool: WorkerHandle<Pool>) -> Self {
        Cache { pool, hits: 0 }
    }
}

#[handlers]
impl Cache {
    /// The pool's size, through the pool, and how many calls came.
    #[call]
    async fn lookup(&mut self) -> (usize, u64) {
        self.hits += 1;
        (self.pool.size().await.unwrap_or(0), self.hits)
    }
}

#[derive(Clone, Supervisor)]
struct App {
    pool: Pool,
    #[child(uses = [pool])]
    cache: fn(WorkerHandle<Pool>) -> Cache,
}

#[tokio::test(start_paused = true)]
async fn a_child_is_built_from_the_handle_of_a_sibling_started_before_it() {
    let app = App {
        pool: Pool { size: 4 },
        cache: Cache::new,
    }
    .start()
    .await
    .unwrap();
    assert_eq!(app.cache.lookup().await, Ok((4, 1)));
    assert_eq!(app.cache.lookup().await, Ok((4, 2)));
    // The tree's handle lists and snapshots its tree directly.
    let ids: Vec<_> = app
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, [Some("cache".into()), Some("pool".into())]);
    assert_eq!(app.snapshot().await.unwrap().children.len(), 2);

    // The pool restarts; the cache, which only uses it, does not (its
    // count goes on), and its handle reaches the new pool.
    let first_pool = app.pool.child().unwrap();
    first_pool.kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_ne!(app.pool.child().unwrap(), first_pool);
    assert_eq!(app.cache.lookup().await, Ok((4, 3)));

    // The cache restarts: built again from the same handle.
    app.cache.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(app.cache.lookup().await, Ok((4, 1)));
    app.stop().await.unwrap();
}

#[worker]
#[derive(Clone)]
struct Report {
    pool: WorkerHandle<Pool>,
    front: FrontHandle,
}

#[handlers]
impl Report {
    #[call]
    async fn render(&mut self) -> String {
        let pool = self.pool.size().await.unwrap_or(0);
        let cache = self.front.cache.size().await.unwrap_or(0);
        let mirror = self.front.mirror.size().await.unwrap_or(0);
        format!("pool {pool}, cache {cache}, mirror {mirror}")
    }
}

supervision_tree! {
    #[supervisor(strategy = rest_for_one)]
    struct Shop {
        pool: Pool,
        #[supervisor(strategy = one_for_one)]
        front: Front {
            cache: Pool,
            #[child(uses = [cache])]
            mirror: fn(WorkerHandle<Pool>) -> Mirror,
        },
        // A nested supervisor's handle is a sibling's handle too.
        #[child(uses = [pool, front])]
        report: fn(WorkerHandle<Pool>, FrontHandle) -> Report,
    }
}

/// Answers with its source's size, doubled.
#[worker]
#[derive(Clone)]
struct Mirror {
    source: WorkerHandle<Pool>,
}

#[handlers]
impl Mirror {
    #[call]
    async fn size(&mut self) -> usize {
        2 * self.source.size().await.unwrap_or(0)
    }
}

#[tokio::test(start_paused = true)]
async fn the_dsl_wires_siblings_and_nested_supervisors_handles() {
    let shop = Shop {
        pool: Pool { size: 2 },
        front: Front {
            cache: Pool { size: 3 },
            // A closure that captures nothing is a function too.
            mirror: |source| Mirror { source },
        },
        report: |pool, front| Report { pool, front },
    }
    .start()
    .await
    .unwrap();
    assert_eq!(shop.front.mirror.size().await, Ok(6));
    assert_eq!(
        shop.report.render().await,
        Ok("pool 2, cache 3, mirror 6".to_owned())
    );
    shop.stop().await.unwrap();
}
