package main

import "example.com/forbidden/controllers/x"

func main() { _ = x.X }
