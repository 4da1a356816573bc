using System.Runtime.CompilerServices;

// The engine invokes ExecuteAsync/ResumeAsync, which are protected internal so packs cannot call each other's activities directly.
[assembly: InternalsVisibleTo("Platform.Engine")]
