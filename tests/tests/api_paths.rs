//! The public API's paths: every item is in its module, the everyday ones
//! at the root too, and the root paths of the earlier versions still name
//! the same items (hidden re-exports), so code written against them
//! compiles.

use std::any::TypeId;

/// `A` and `B` are one type.
fn same<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[test]
fn the_modules_and_the_root_name_the_same_items() {
    use supervise as s;
    // Everyday items: at the root and in their module.
    assert!(same::<s::Context, s::worker::Context>());
    assert!(same::<s::WorkerHandle<W>, s::worker::WorkerHandle<W>>());
    assert!(same::<s::HandleError, s::worker::HandleError>());
    assert!(same::<s::ChildSpec, s::child::ChildSpec>());
    assert!(same::<s::ChildRef, s::child::ChildRef>());
    assert!(same::<s::Supervisor, s::supervisor::Supervisor>());
    assert!(same::<s::SupervisorRef, s::supervisor::SupervisorRef>());
    assert!(same::<s::CallError, s::supervisor::CallError>());
    assert!(same::<s::StartError, s::supervisor::StartError>());
    assert!(same::<s::Restart, s::policy::Restart>());
    assert!(same::<s::Exit, s::exit::Exit>());
    assert!(same::<s::Event, s::event::Event>());
    assert!(same::<
        s::DynamicSupervisor<W>,
        s::dynamic::DynamicSupervisor<W>,
    >());
    assert!(same::<s::TaskSupervisor, s::task::TaskSupervisor>());
    assert!(same::<s::Registry<u32>, s::registry::Registry<u32>>());
    // The earlier root paths of the items now in modules.
    assert!(same::<s::DynamicHandle<W>, s::dynamic::DynamicHandle<W>>());
    assert!(same::<s::TaskHandle<u32>, s::task::TaskHandle<u32>>());
    assert!(same::<s::ChildInfo, s::supervisor::ChildInfo>());
    assert!(same::<s::SupervisorBuilder, s::supervisor::SupervisorBuilder>());
    assert!(same::<s::SupervisorSnapshot, s::snapshot::SupervisorSnapshot>());
    assert!(same::<s::EventStream, s::event::EventStream>());
    assert!(same::<s::AutoShutdown, s::policy::AutoShutdown>());
    assert!(same::<s::SpecError, s::supervisor::SpecError>());
    assert!(same::<s::ParseSpecError, s::policy::ParseSpecError>());
    assert!(same::<s::ServiceOptions, s::service::ServiceOptions>());
    assert!(same::<s::RegistryError, s::registry::RegistryError>());
    assert!(same::<s::SendError<u8>, s::worker::SendError<u8>>());
    assert!(same::<s::ShutdownSignal, s::worker::ShutdownSignal>());
    assert_eq!(s::DEFAULT_CALL_TIMEOUT, s::worker::DEFAULT_CALL_TIMEOUT);
    assert_eq!(s::DEFAULT_AWAIT_TIMEOUT, s::task::DEFAULT_AWAIT_TIMEOUT);
}
