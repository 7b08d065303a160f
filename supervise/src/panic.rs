//! Panics of supervised tasks: caught, with their location, and printed
//! once (through `tracing`) rather than by the default hook as well.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

thread_local! {
    /// How many supervised polls are on this thread's stack.
    static IN_CHILD: Cell<u32> = const { Cell::new(0) };
    /// The location of the last panic inside a supervised poll.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs a panic hook that keeps the panics of supervised tasks (their
/// init and run, and the tasks they spawn through their context) out of
/// the default hook's output: the runtime reports each of them once, as a
/// `tracing` warning with its message and location, and in the child's
/// exit reason. Panics anywhere else go to the hook that was installed
/// before, which is never replaced. Calling it more than once installs it
/// once.
///
/// # Examples
///
/// ```
/// supervise::install_panic_hook();
/// ```
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CHILD.with(Cell::get) > 0 {
                let location = info.location().map(|l| l.to_string());
                LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// The location recorded by the hook for the panic just caught, if any.
pub(crate) fn take_location() -> Option<String> {
    LOCATION.with(|slot| slot.borrow_mut().take())
}

pin_project_lite::pin_project! {
    /// Marks the polls of a supervised future, so that the hook knows a
    /// panic in it will be caught and reported.
    pub(crate) struct PanicScope<F> {
        #[pin]
        inner: F,
    }
}

impl<F> PanicScope<F> {
    pub(crate) fn new(inner: F) -> Self {
        PanicScope { inner }
    }
}

impl<F: Future> Future for PanicScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        struct Depth;
        impl Drop for Depth {
            fn drop(&mut self) {
                IN_CHILD.with(|d| d.set(d.get() - 1));
            }
        }
        IN_CHILD.with(|d| d.set(d.get() + 1));
        let _depth = Depth;
        self.project().inner.poll(cx)
    }
}
