//! The end of a process: no thread may be inside libpq when `exit()` runs the libraries'
//! destructors. OpenSSL 3 frees its global state in an atexit handler, and an actix worker that
//! drops the last handle of the pool closes its TLS connections (`PQfinish`) whenever it gets
//! there — once in about 700 test processes that was after main returned: SIGSEGV in
//! `OPENSSL_sk_push`. Two guards, each tested here: the pool is emptied by whoever ends the
//! service, and OpenSSL is told not to clean up at exit.

mod common;

use common::TestApp;
use futures_util::future::join_all;

#[tokio::test]
async fn ending_the_service_leaves_no_pooled_connection_for_another_thread_to_close() {
    let app = TestApp::spawn().await;
    let token = app.token("anna", "social", &["caseworker"]);
    // Fill the pool: concurrent reads check out all five connections.
    join_all((0..10).map(|_| app.get("/api/v1/committees", &token))).await;
    let db = app.db.clone();
    assert!(db.pool().state().connections > 0, "the pool holds connections while the service runs");
    drop(app);
    // At once, not eventually: what is left would be closed by an unjoined thread.
    assert_eq!(db.pool().state().connections, 0, "connections outlived the service");
    // And the closed pool opens none again.
    assert!(db.pool().get().is_err(), "a closed pool opened a connection");
}

/// The exit code the child uses to say OpenSSL was torn down by the time its own atexit
/// handler ran (which is after every handler registered later, OpenSSL's included).
const TORN_DOWN: i32 = 42;

extern "C" {
    fn atexit(f: extern "C" fn()) -> std::ffi::c_int;
    fn _exit(code: std::ffi::c_int) -> !;
    fn dlsym(handle: *mut std::ffi::c_void, symbol: *const std::ffi::c_char) -> *mut std::ffi::c_void;
}

extern "C" fn after_everything() {
    const OPENSSL_INIT_BASE_ONLY: u64 = 0x0004_0000;
    type Init = extern "C" fn(u64, *const std::ffi::c_void) -> std::ffi::c_int;
    // SAFETY: the symbol, looked up among the loaded libraries, is OPENSSL_init_crypto; after
    // OPENSSL_cleanup it refuses to initialise again and returns 0.
    unsafe {
        let f = dlsym(std::ptr::null_mut(), c"OPENSSL_init_crypto".as_ptr());
        if !f.is_null() {
            let init = std::mem::transmute::<*mut std::ffi::c_void, Init>(f);
            if init(OPENSSL_INIT_BASE_ONLY, std::ptr::null()) == 0 {
                _exit(TORN_DOWN);
            }
        }
    }
}

/// Run only by the test below, in a process of its own.
#[test]
#[ignore = "a child process of openssl_is_still_whole_when_the_process_exits"]
fn exit_probe_child() {
    // SAFETY: registers a plain C function to run at exit.
    unsafe { atexit(after_everything) };
    // The service's way to the database: a TLS connection (the test server has ssl on).
    let db = helhed::db::Db::new(&common::admin_url(), 1);
    let conn = db.pool().get().expect("a pooled connection");
    drop(conn);
    assert!(db.close(std::time::Duration::from_secs(5)));
}

#[test]
fn openssl_is_still_whole_when_the_process_exits() {
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args(["--exact", "exit_probe_child", "--ignored", "--test-threads", "1"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_ne!(status.code(), Some(TORN_DOWN), "OpenSSL cleaned up at exit: a thread still in libpq would crash");
    assert!(status.success(), "the child failed: {status:?}");
}
