// AssemblyInfo.cs - tests run one at a time (several measure deadlines in milliseconds), on Linux only (Unix sockets, SO_PEERCRED).
[assembly: DoNotParallelize]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
