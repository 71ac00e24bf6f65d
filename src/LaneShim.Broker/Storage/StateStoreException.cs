// StateStoreException.cs - the broker's state (SQLite file or PostgreSQL) cannot be opened or used.
namespace LaneShim.Broker.Storage;

/// <summary>The lease store cannot be opened; the message names it and what to try.</summary>
public sealed class StateStoreException(string message, Exception? inner = null) : IOException(message, inner);
