// Every `#[worker(...)]` key, on structs and an enum, and a generic worker.
use supervise::{worker, Supervisor};

#[worker(restart = temporary, shutdown = brutal_kill)]
#[derive(Clone)]
struct Temp;

#[worker(restart = transient, shutdown = "30s")]
#[derive(Clone)]
struct Trans;

#[worker(shutdown = 5000, restart = permanent)]
#[derive(Clone)]
struct Millis;

#[worker(shutdown = infinity, significant = false)]
#[derive(Clone)]
enum Mode {
    Fast,
}

#[worker(crate = ::supervise)]
#[derive(Clone)]
struct Generic<T: Clone + Send + Sync + 'static>(T);

macro_rules! impl_worker {
    ($($t:ty),*) => {$(
        impl supervise::Worker for $t {
            type Message = ();
            async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
                Ok(())
            }
        }
    )*};
}
impl_worker!(Temp, Trans, Millis, Mode);

impl<T: Clone + Send + Sync + 'static> supervise::Worker for Generic<T> {
    type Message = T;
    async fn run(self, _ctx: supervise::Context<T>) -> Result<(), supervise::Exit> {
        let _ = self.0;
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    temp: Temp,
    trans: Trans,
    millis: Millis,
    mode: Mode,
    generic: Generic<u32>,
}

const _: () = {
    assert!(matches!(
        <Temp as supervise::Child>::RESTART,
        supervise::Restart::Temporary
    ));
    assert!(matches!(
        <Temp as supervise::Child>::SHUTDOWN,
        supervise::Shutdown::BrutalKill
    ));
    assert!(matches!(
        <Trans as supervise::Child>::RESTART,
        supervise::Restart::Transient
    ));
    assert!(matches!(
        <Mode as supervise::Child>::SHUTDOWN,
        supervise::Shutdown::Infinity
    ));
};

fn main() {
    let _ = App {
        temp: Temp,
        trans: Trans,
        millis: Millis,
        mode: Mode::Fast,
        generic: Generic(1),
    }
    .spec();
}
