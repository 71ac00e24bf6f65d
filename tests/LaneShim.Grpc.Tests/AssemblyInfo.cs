// AssemblyInfo.cs - tests run one at a time (several measure deadlines in milliseconds).
[assembly: DoNotParallelize]
