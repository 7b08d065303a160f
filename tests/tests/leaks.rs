//! Memory returns to its baseline after the control API's cycles (fault 6
//! of the README's reliability list). Its own test binary, with one test
//! and a counting allocator, so that nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use supervise::{ChildSpec, Supervisor};
use supervise_tests::Idle;

/// The system allocator, counting the bytes that are live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as the caller's contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as the caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Start, terminate and delete children under ids never used before: once
/// deleted, nothing of an id is kept (it used to keep about 65 bytes per
/// id for good: 3 MiB after 50,000 cycles).
#[tokio::test(flavor = "current_thread")]
async fn start_terminate_delete_cycles_with_new_ids_leave_nothing() {
    let sup = Supervisor::builder("app")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let cycle = |n: usize| {
        let sup = &sup;
        async move {
            let id = format!("job-{n}");
            sup.start_child(ChildSpec::worker(&id, || Idle))
                .await
                .unwrap();
            sup.terminate_child(&id).await.unwrap();
            sup.delete_child(&id).await.unwrap();
        }
    };
    // Warm up: the supervisor's vectors and tokio's slabs reach their size.
    for n in 0..1_000 {
        cycle(n).await;
    }
    let baseline = LIVE.load(Ordering::Relaxed);
    for n in 1_000..21_000 {
        cycle(n).await;
    }
    let grown = LIVE.load(Ordering::Relaxed) - baseline;
    assert!(
        grown < 16 * 1024,
        "20,000 cycles left {grown} bytes more than the baseline"
    );
    sup.stop().await.unwrap();
}
