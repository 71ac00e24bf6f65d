// AssemblyInfo.cs - these tests only read files and run tools on copies; they may run in parallel.
using Microsoft.VisualStudio.TestTools.UnitTesting;

[assembly: Parallelize(Scope = ExecutionScope.MethodLevel)]
