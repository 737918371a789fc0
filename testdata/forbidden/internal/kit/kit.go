package kit

const K = 1
