using System.Runtime.InteropServices;

namespace ControlPlane.Agent.Emulated;

/// <summary>
/// Runs CPU-heavy emulation work on one dedicated thread at the lowest scheduling priority (Linux nice 19), so that the
/// emulated fabric, which stands in for hardware that would not share the controller's processors, takes only the CPU
/// the control plane leaves idle. Without this, every re-emulation (about half a second of CPU on the 768-switch MPFT)
/// competes with the failure path it is meant to observe. Elsewhere than Linux the thread runs at the lowest priority
/// .NET offers.
/// </summary>
public sealed class BackgroundCpu : IDisposable
{
    private readonly System.Collections.Concurrent.BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    /// <summary>Starts the thread.</summary>
    public BackgroundCpu(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name, Priority = ThreadPriority.Lowest };
        _thread.Start();
    }

    /// <summary>True when the thread's nice value was raised (Linux only).</summary>
    public bool Niced { get; private set; }

    /// <summary>Runs <paramref name="work"/> on the low-priority thread.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.TrySetResult(work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        });
        return done.Task;
    }

    private void Run()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                // setpriority(PRIO_PROCESS, tid, 19) lowers this thread only (Linux threads are scheduled separately).
                Niced = SetPriority(0, GetTid(), 19) == 0;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Niced = false;
            }
        }
        foreach (var w in _work.GetConsumingEnumerable()) w();
    }

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int prio);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    /// <inheritdoc/>
    public void Dispose()
    {
        _work.CompleteAdding();
        // A run still going after the wait keeps the collection (its thread is a background thread and ends with the process).
        if (_thread.Join(TimeSpan.FromSeconds(5))) _work.Dispose();
    }
}
