module mtlsctl.test/judges/gox509

go 1.22
