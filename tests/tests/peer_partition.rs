//! Elixir's `PartitionSupervisor` (1.14), case by case from its documented
//! behaviour: `partitions`, `with_arguments` (each partition's child gets
//! its index), routing by key, `which_children` and `count_children` (one
//! entry per partition, its id the index), the restart of one partition,
//! any child type, through `supervise::Partitioned` and
//! `supervise::PartitionSupervisor`.

use std::collections::HashSet;
use std::time::Duration;

use supervise::{
    worker, Child, ChildCounts, ChildKind, ChildStatus, Context, DynamicSupervisor, Exit,
    PartitionSupervisor, Partitioned, Reply, SpecError, Strategy, Supervisor, TaskSupervisor,
    Worker,
};
use supervise_tests::{bounded, settle};

/// A partition's worker: answers with its index and its incarnation.
#[worker]
#[derive(Clone)]
struct Shard {
    index: usize,
}

impl Worker for Shard {
    type Message = Reply<(usize, u64)>;

    async fn run(self, mut ctx: Context<Reply<(usize, u64)>>) -> Result<(), Exit> {
        while let Some(reply) = ctx.recv().await {
            let _ = reply.send((self.index, ctx.incarnation()));
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn with_arguments_gives_each_partition_its_index() {
    let shards = Partitioned::with_arguments(4, |index| Shard { index })
        .unwrap()
        .start("shards")
        .await
        .unwrap();
    assert_eq!(shards.partitions(), 4);
    for (i, handle) in shards.handles().iter().enumerate() {
        assert_eq!(handle.call(|r| r).await.unwrap(), (i, 1));
    }
    assert!(shards.partition(4).is_none());
    // One entry per partition, its id the index, newest first as OTP's.
    let children = shards.which_children().await.unwrap();
    let ids: Vec<_> = children.iter().map(|c| c.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["3", "2", "1", "0"]);
    assert!(children
        .iter()
        .all(|c| c.kind == ChildKind::Worker && matches!(c.status, ChildStatus::Running(_))));
    assert_eq!(
        shards.count_children().await.unwrap(),
        ChildCounts {
            specs: 4,
            active: 4,
            supervisors: 0,
            workers: 4
        }
    );
    shards.supervisor().current().unwrap().stop().await.unwrap();
    assert!(shards.which_children().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_key_always_goes_to_the_same_partition() {
    let shards = Partitioned::with_arguments(4, |index| Shard { index })
        .unwrap()
        .start("shards")
        .await
        .unwrap();
    let mut hit = HashSet::new();
    for key in 0..200u32 {
        let index = shards.index_of(&key);
        assert_eq!(index, shards.index_of(&key));
        let (answered, _) = shards.partition_of(&key).call(|r| r).await.unwrap();
        assert_eq!(answered, index);
        hit.insert(index);
    }
    // 200 keys reach every partition.
    assert_eq!(hit.len(), 4);
    // Any hashable key, borrowed forms included.
    assert_eq!(shards.index_of("user:1"), shards.index_of(&"user:1"));
    shards.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_crashed_partition_restarts_alone_and_its_handle_follows() {
    let shards = Partitioned::with_arguments(3, |index| Shard { index })
        .unwrap()
        .start("shards")
        .await
        .unwrap();
    shards.partition(1).unwrap().child().unwrap().kill();
    let again = shards.partition(1).unwrap();
    bounded("the restart", again.wait_running(Duration::from_secs(60)))
        .await
        .unwrap();
    // Its index is its own again; the others were not touched.
    assert_eq!(again.call(|r| r).await.unwrap(), (1, 2));
    assert_eq!(
        shards.partition(0).unwrap().call(|r| r).await.unwrap(),
        (0, 1)
    );
    assert_eq!(
        shards.partition(2).unwrap().call(|r| r).await.unwrap(),
        (2, 1)
    );

    // With `one_for_all`, one crash restarts every partition.
    let all = Partitioned::with_arguments(2, |index| Shard { index })
        .unwrap()
        .strategy(Strategy::OneForAll)
        .max_restarts(10)
        .max_seconds(1)
        .start("all")
        .await
        .unwrap();
    all.partition(0).unwrap().child().unwrap().kill();
    settle().await;
    for (i, handle) in all.handles().iter().enumerate() {
        let answer = handle.call_timeout(|r| r, Duration::from_secs(60)).await;
        assert_eq!(answer.unwrap(), (i, 2));
    }
    shards.supervisor().current().unwrap().stop().await.unwrap();
    all.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_with_arguments_every_partition_gets_the_same_child() {
    let same = Partitioned::new(3, Shard { index: 7 })
        .unwrap()
        .start("same")
        .await
        .unwrap();
    for handle in same.handles() {
        assert_eq!(handle.call(|r| r).await.unwrap(), (7, 1));
    }
    same.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn zero_partitions_and_a_zero_period_are_typed_errors() {
    assert_eq!(
        Partitioned::with_arguments(0, |index| Shard { index }).unwrap_err(),
        SpecError::InvalidPartitions { partitions: 0 }
    );
    assert!(Partitioned::new(usize::MAX, Shard { index: 0 }).is_err());
    let zero_period = Partitioned::new(1, Shard { index: 0 })
        .unwrap()
        .period(Duration::ZERO)
        .start("p")
        .await;
    assert!(zero_period.is_err());
    assert!(Partitioned::new(1, Shard { index: 0 })
        .unwrap()
        .start("a/b")
        .await
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn partitions_of_any_child_type_task_supervisors_included() {
    let pools = Partitioned::with_arguments(2, |_| TaskSupervisor::new())
        .unwrap()
        .start("pools")
        .await
        .unwrap();
    let task = pools
        .partition_of("job-1")
        .spawn(async { 40 + 2 })
        .await
        .unwrap();
    assert_eq!(task.join().await, Ok(42));
    let counts = pools.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.supervisors, counts.active), (2, 2, 2));
    let children = pools.which_children().await.unwrap();
    assert!(children.iter().all(|c| c.kind == ChildKind::Supervisor));
    pools.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_partition_supervisor_is_a_child_like_any_other() {
    let (spec, shards) = <Partitioned<Shard> as Child>::child_spec("shards", || {
        Partitioned::with_arguments(2, |index| Shard { index }).unwrap()
    });
    let app = Supervisor::builder("app")
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(shards.supervisor().current().unwrap().path(), "app/shards");
    assert_eq!(
        shards.partition(1).unwrap().call(|r| r).await.unwrap(),
        (1, 1)
    );
    // Restarted by its parent, it starts its partitions again; the handles
    // follow them.
    let children = app.which_children().await.unwrap();
    let ChildStatus::Running(partitions) = &children[0].status else {
        panic!("running")
    };
    partitions.kill();
    // Its children die with it (a call could reach a dying one: `Lost`).
    settle().await;
    let p1 = shards.partition(1).unwrap();
    let answer = p1.call_timeout(|r| r, Duration::from_secs(60)).await;
    assert_eq!(answer.unwrap(), (1, 2));
    app.stop().await.unwrap();
    assert!(shards.supervisor().current().is_err());
}

#[tokio::test(start_paused = true)]
async fn the_dynamic_form_lists_one_entry_per_partition() {
    let orders = PartitionSupervisor::new(DynamicSupervisor::<Shard>::new().keyed::<u32>(), 3)
        .unwrap()
        .start("orders")
        .await
        .unwrap();
    for key in 0..6 {
        orders.start_child(key, Shard { index: 0 }).await.unwrap();
    }
    let children = orders.which_children().await.unwrap();
    let ids: Vec<_> = children.iter().map(|c| c.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["2", "1", "0"]);
    let counts = orders.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.supervisors), (3, 3));
    // The children themselves are counted by their partitions.
    let mut total = 0;
    for partition in orders.partitions() {
        total += partition.count_children().await.unwrap().active;
    }
    assert_eq!(total, 6);
    orders.supervisor().current().unwrap().stop().await.unwrap();
}
