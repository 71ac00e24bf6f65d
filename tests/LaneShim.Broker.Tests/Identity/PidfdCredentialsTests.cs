// PidfdCredentialsTests.cs - the uids the socket proof reads through a pidfd (PIDFD_GET_INFO) agree with /proc/PID/status.
using LaneShim.Broker.Identity;
using LaneShim.Broker.Native;
using LaneShim.Testing;

namespace LaneShim.Broker.Tests.Identity;

[TestClass]
public sealed class PidfdCredentialsTests
{
    [TestMethod]
    public void ProcessThatChangedUids_PidfdAndProcAgree_RealAndEffective()
    {
        Privileges.RequireRoot("setresuid in the child needs root");
        Privileges.RequireProgram(RepoPaths.SystemPython);
        // Real 65534, effective 65533: the two must not be confused.
        using var child = new BackgroundProcess(RepoPaths.SystemPython, ["-c",
            "import os,time; os.setresuid(65534, 65533, 0); print('ready', flush=True); time.sleep(120)"]);
        child.WaitUntil(() => child.Stdout.Contains("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "changed its uids");

        int pidfd = (int)Libc.Syscall2(SocketSyscalls.SysPidfdOpen, child.Pid, 0);
        Assert.IsGreaterThanOrEqualTo(0, pidfd, "pidfd_open");
        try
        {
            Assert.AreEqual((65534u, 65533u), SocketProof.RunsAsFromProc(child.Pid));
            Assert.AreEqual((65534u, 65533u), SocketProof.RunsAs(pidfd, child.Pid));
        }
        finally
        {
            Libc.Close(pidfd);
        }
    }

    [TestMethod]
    public void OwnProcess_RunsAsRoot_BothWays()
    {
        Privileges.RequireRoot("the expected uid is 0");
        int pidfd = (int)Libc.Syscall2(SocketSyscalls.SysPidfdOpen, Environment.ProcessId, 0);
        try
        {
            Assert.AreEqual((0u, 0u), SocketProof.RunsAs(pidfd, Environment.ProcessId));
            Assert.AreEqual((0u, 0u), SocketProof.RunsAsFromProc(Environment.ProcessId));
        }
        finally
        {
            Libc.Close(pidfd);
        }
    }
}
