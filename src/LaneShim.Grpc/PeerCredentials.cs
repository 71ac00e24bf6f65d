// PeerCredentials.cs - who is on the other end of a Unix-socket connection, as the kernel says (SO_PEERCRED).
namespace LaneShim.Grpc;

/// <summary>The caller's pid, uid and gid from SO_PEERCRED; never from the request.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid);
