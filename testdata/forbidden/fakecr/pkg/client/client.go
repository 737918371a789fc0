package client

const C = 1
