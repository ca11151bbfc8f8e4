// The command line's start is part of every command's time (eval of one
// input is meant to take a few milliseconds as a whole process): GOMAXPROCS
// is not derived from the cgroup's CPU limit, whose lookup (mountinfo and
// cgroup files) took about a tenth of a short run here.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

package main
